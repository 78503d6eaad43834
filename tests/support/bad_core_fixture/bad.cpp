#include <boost/asio.hpp>
int x;

#include "tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tandem/core/excerpt.hpp"

namespace tandem::server {
namespace {

// TLS 1.2 suites: forward secret (ECDHE) and authenticated encryption only
// (Mozilla's "intermediate" list). Everything else (CBC, RSA key exchange,
// DHE, 3DES, RC4, NULL) is left out.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// OpenSSL's reason for the last failure (a fixed library string, not data
// from the file), and clears its error queue.
std::string openssl_reason() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown reason";
  const char* reason = ERR_reason_error_string(e);
  return reason ? reason : "unknown reason";
}

}  // namespace

Result<std::shared_ptr<net::ssl::context>> make_tls_context(const std::string& cert_file,
                                                            const std::string& key_file) {
  auto ctx = std::make_shared<net::ssl::context>(net::ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  ctx->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                   net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                   net::ssl::context::no_tlsv1_1 | net::ssl::context::no_compression |
                   net::ssl::context::single_dh_use);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return make_error(ErrorCode::kInternal, "cannot configure TLS: " + openssl_reason());
  }
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(native, cert_file.c_str()) != 1) {
    return make_error(ErrorCode::kCertificate,
                      "cannot load --tls-cert " + excerpt(cert_file) + ": " + openssl_reason());
  }
  if (SSL_CTX_use_PrivateKey_file(native, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return make_error(ErrorCode::kCertificate,
                      "cannot load --tls-key " + excerpt(key_file) + ": " + openssl_reason());
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return make_error(ErrorCode::kCertificate, "--tls-key " + excerpt(key_file) +
                                                   " does not belong to --tls-cert " +
                                                   excerpt(cert_file) + ": " + openssl_reason());
  }
  return ctx;
}

}  // namespace tandem::server

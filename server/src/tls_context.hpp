// The server's TLS settings, in one place: TLS 1.2 and 1.3 only; for 1.2
// only ECDHE key exchange with AEAD ciphers (AES-GCM, ChaCha20-Poly1305),
// chosen in the server's order; no renegotiation, no compression. TLS 1.3's
// suites are all AEAD (OpenSSL's defaults).
#pragma once

#include <memory>
#include <string>

#include "http_types.hpp"
#include "tandem/core/error.hpp"
// clang-format off
#include <boost/asio/ssl/context.hpp>
// clang-format on

namespace tandem::server {

// Loads a PEM certificate chain (leaf first) and its PEM private key.
// kCertificate with the file and OpenSSL's reason when a file cannot be read
// or parsed, or the key does not belong to the certificate.
Result<std::shared_ptr<net::ssl::context>> make_tls_context(const std::string& cert_file,
                                                            const std::string& key_file);

}  // namespace tandem::server

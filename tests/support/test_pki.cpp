#include "test_pki.hpp"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <memory>

namespace tandem::test {
namespace {

struct Deleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(FILE* p) const { std::fclose(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Deleter>;
using Cert = std::unique_ptr<X509, Deleter>;
using File = std::unique_ptr<FILE, Deleter>;

Key new_key() {
  Key key(EVP_EC_gen("P-256"));
  REQUIRE(key);
  return key;
}

void write_pem(const std::string& path, EVP_PKEY* key, X509* cert) {
  File f(std::fopen(path.c_str(), "w"));
  REQUIRE(f);
  if (key) REQUIRE(PEM_write_PrivateKey(f.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1);
  if (cert) REQUIRE(PEM_write_X509(f.get(), cert) == 1);
}

Key read_key(const std::string& path) {
  File f(std::fopen(path.c_str(), "r"));
  REQUIRE(f);
  Key key(PEM_read_PrivateKey(f.get(), nullptr, nullptr, nullptr));
  REQUIRE(key);
  return key;
}

Cert read_cert(const std::string& path) {
  File f(std::fopen(path.c_str(), "r"));
  REQUIRE(f);
  Cert cert(PEM_read_X509(f.get(), nullptr, nullptr, nullptr));
  REQUIRE(cert);
  return cert;
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  REQUIRE(ext != nullptr);
  REQUIRE(X509_add_ext(cert, ext, -1) == 1);
  X509_EXTENSION_free(ext);
}

// A certificate for `key`, named `cn`, valid over [now+from_s, now+to_s].
Cert new_cert(EVP_PKEY* key, const std::string& cn, std::int64_t from_s, std::int64_t to_s) {
  static long serial = 1000;
  Cert cert(X509_new());
  REQUIRE(cert);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ++serial);
  REQUIRE(X509_gmtime_adj(X509_getm_notBefore(cert.get()), static_cast<long>(from_s)) != nullptr);
  REQUIRE(X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(to_s)) != nullptr);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  REQUIRE(X509_set_pubkey(cert.get(), key) == 1);
  return cert;
}

bool is_ip(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

TestPki::TestPki(const std::string& dir, const std::string& name, const std::string& file_stem)
    : dir_(dir), stem_(file_stem) {
  Key key = new_key();
  Cert cert = new_cert(key.get(), name, -kDay, 30 * 365 * kDay);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  add_ext(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE");
  add_ext(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_ext(cert.get(), cert.get(), NID_subject_key_identifier, "hash");
  REQUIRE(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0);
  ca_.cert = dir_ + "/" + stem_ + "-ca.pem";
  ca_.key = dir_ + "/" + stem_ + "-ca.key";
  write_pem(ca_.cert, nullptr, cert.get());
  write_pem(ca_.key, key.get(), nullptr);
}

CertFiles TestPki::issue(const std::string& name, const std::vector<std::string>& hosts,
                         std::int64_t not_before_s, std::int64_t not_after_s) const {
  Key ca_key = read_key(ca_.key);
  Cert ca_cert = read_cert(ca_.cert);
  Key key = new_key();
  Cert cert = new_cert(key.get(), hosts.empty() ? name : hosts.front(), not_before_s, not_after_s);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get()));
  std::string san;
  for (const auto& h : hosts)
    san += (san.empty() ? "" : ",") + std::string(is_ip(h) ? "IP:" : "DNS:") + h;
  if (!san.empty()) add_ext(cert.get(), ca_cert.get(), NID_subject_alt_name, san);
  add_ext(cert.get(), ca_cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_ext(cert.get(), ca_cert.get(), NID_key_usage, "critical,digitalSignature");
  add_ext(cert.get(), ca_cert.get(), NID_ext_key_usage, "serverAuth");
  add_ext(cert.get(), ca_cert.get(), NID_authority_key_identifier, "keyid:always");
  REQUIRE(X509_sign(cert.get(), ca_key.get(), EVP_sha256()) > 0);
  CertFiles out{dir_ + "/" + stem_ + "-" + name + ".pem", dir_ + "/" + stem_ + "-" + name + ".key"};
  write_pem(out.cert, nullptr, cert.get());
  write_pem(out.key, key.get(), nullptr);
  return out;
}

}  // namespace tandem::test

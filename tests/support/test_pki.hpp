// Certificates made at test time (OpenSSL's C API; nothing is fetched):
// a private CA and the server certificates tests need, good or bad on
// purpose (another host, expired, not yet valid, from another CA). EC P-256
// keys, PEM files in a folder of the caller's.
//
//   tandem::test::TestPki pki(dir.path(), "Skolens CA");
//   auto good = pki.issue("server", {"127.0.0.1", "localhost"});
//   auto old = pki.issue("expired", {"127.0.0.1"}, -30 * kDay, -1 * kDay);
//   // --tls-cert good.cert --tls-key good.key; clients trust pki.ca_file()
//
// Thread-safety: none needed (files only).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tandem::test {

inline constexpr std::int64_t kDay = 24 * 60 * 60;  // seconds

struct CertFiles {
  std::string cert;  // PEM certificate
  std::string key;   // PEM private key (unencrypted)
};

class TestPki {
 public:
  // A self-signed CA valid from a day ago for 30 years, written to
  // DIR/<file_stem>-ca.pem (key beside it). REQUIREs success.
  TestPki(const std::string& dir, const std::string& name, const std::string& file_stem = "test");
  const std::string& ca_file() const { return ca_.cert; }

  // A server certificate for `hosts` (IP literals become IP SANs, the rest
  // DNS SANs), valid from now + not_before_s to now + not_after_s (seconds,
  // negative for the past), signed by this CA; DIR/<stem>-<name>.pem/.key.
  CertFiles issue(const std::string& name, const std::vector<std::string>& hosts,
                  std::int64_t not_before_s = -kDay, std::int64_t not_after_s = 365 * kDay) const;

 private:
  std::string dir_;
  std::string stem_;
  CertFiles ca_;
};

}  // namespace tandem::test

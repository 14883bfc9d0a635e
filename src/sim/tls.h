// TLS material for prescient-sim: a CA and a serving certificate (ECDSA P-256, SAN 127.0.0.1,
// localhost and any extra names) made with the OpenSSL APIs at start-up, or kept in a data dir so a
// restarted sim keeps the CA its clients trust. Thread-safe (no shared state).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace prescient::sim {

struct TlsMaterial {
  std::string ca_cert_pem;
  std::string ca_key_pem;
  std::string server_cert_pem;
  std::string server_key_pem;
};

// extra_sans: more IP addresses or DNS names for the serving certificate (e.g. the bind address).
Result<TlsMaterial> GenerateTlsMaterial(const std::vector<std::string>& extra_sans);
// With dir non-empty: reads dir/{ca.crt,ca.key,server.crt,server.key} when all exist, else
// generates and writes them (0600 keys).
Result<TlsMaterial> LoadOrCreateTlsMaterial(const std::string& dir, const std::vector<std::string>& extra_sans);

}  // namespace prescient::sim

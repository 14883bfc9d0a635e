#include "sim/tls.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

namespace prescient::sim {
namespace {

struct Deleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
template <typename T>
using Ptr = std::unique_ptr<T, Deleter>;

std::string BioString(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

Status AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  Ptr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return InternalError("cannot add certificate extension " + std::string(OBJ_nid2sn(nid)) + "=" + value);
  }
  return Status::Ok();
}

Result<Ptr<X509>> MakeCert(EVP_PKEY* key, EVP_PKEY* signer, X509* issuer, const std::string& cn, bool ca,
                           const std::string& san) {
  Ptr<X509> cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3650L * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509* iss = issuer ? issuer : cert.get();
  Status s = AddExt(cert.get(), iss, NID_subject_key_identifier, "hash");
  if (ca) {
    if (s.ok()) s = AddExt(cert.get(), iss, NID_basic_constraints, "critical,CA:TRUE");
    if (s.ok()) s = AddExt(cert.get(), iss, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
  } else {
    if (s.ok()) s = AddExt(cert.get(), iss, NID_basic_constraints, "critical,CA:FALSE");
    if (s.ok()) s = AddExt(cert.get(), iss, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    if (s.ok()) s = AddExt(cert.get(), iss, NID_ext_key_usage, "serverAuth");
    if (s.ok()) s = AddExt(cert.get(), iss, NID_authority_key_identifier, "keyid:always");
    if (s.ok()) s = AddExt(cert.get(), iss, NID_subject_alt_name, san);
  }
  if (!s.ok()) return s;
  if (X509_sign(cert.get(), signer, EVP_sha256()) == 0) return InternalError("cannot sign certificate " + cn);
  return cert;
}

std::string PemCert(X509* c) {
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), c);
  return BioString(bio.get());
}

std::string PemKey(EVP_PKEY* k) {
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), k, nullptr, nullptr, 0, nullptr, nullptr);
  return BioString(bio.get());
}

bool IsIp(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

std::string ReadFile(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Result<TlsMaterial> GenerateTlsMaterial(const std::vector<std::string>& extra_sans) {
  Ptr<EVP_PKEY> ca_key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  Ptr<EVP_PKEY> srv_key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!ca_key || !srv_key) return InternalError("cannot generate P-256 keys");
  auto ca = MakeCert(ca_key.get(), ca_key.get(), nullptr, "prescient-sim-ca", true, "");
  if (!ca.ok()) return ca.status();
  std::string san = "IP:127.0.0.1,IP:::1,DNS:localhost";
  for (const auto& s : extra_sans) {
    if (s.empty() || s == "127.0.0.1" || s == "localhost" || s == "0.0.0.0" || s == "::") continue;
    san += (IsIp(s) ? ",IP:" : ",DNS:") + s;
  }
  auto srv = MakeCert(srv_key.get(), ca_key.get(), ca->get(), "prescient-sim", false, san);
  if (!srv.ok()) return srv.status();
  return TlsMaterial{PemCert(ca->get()), PemKey(ca_key.get()), PemCert(srv->get()), PemKey(srv_key.get())};
}

Result<TlsMaterial> LoadOrCreateTlsMaterial(const std::string& dir, const std::vector<std::string>& extra_sans) {
  if (dir.empty()) return GenerateTlsMaterial(extra_sans);
  namespace fs = std::filesystem;
  const std::string names[4] = {dir + "/ca.crt", dir + "/ca.key", dir + "/server.crt", dir + "/server.key"};
  bool all = true;
  for (const auto& n : names) all = all && fs::exists(n);
  if (all) {
    TlsMaterial m{ReadFile(names[0]), ReadFile(names[1]), ReadFile(names[2]), ReadFile(names[3])};
    if (m.ca_cert_pem.find("BEGIN CERTIFICATE") == std::string::npos ||
        m.server_key_pem.find("PRIVATE KEY") == std::string::npos) {
      return InvalidArgument("TLS files in " + dir + " are not PEM certificates/keys; remove them to regenerate");
    }
    return m;
  }
  auto m = GenerateTlsMaterial(extra_sans);
  if (!m.ok()) return m.status();
  std::error_code ec;
  fs::create_directories(dir, ec);
  const std::string* contents[4] = {&m->ca_cert_pem, &m->ca_key_pem, &m->server_cert_pem, &m->server_key_pem};
  for (int i = 0; i < 4; ++i) {
    std::ofstream out(names[i], std::ios::trunc);
    out << *contents[i];
    if (!out) return InternalError("cannot write " + names[i]);
    out.close();
    if (i % 2 == 1) chmod(names[i].c_str(), 0600);
  }
  return m;
}

}  // namespace prescient::sim

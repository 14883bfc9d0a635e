#include "kube/rest_client.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <optional>
#include <string_view>
#include <vector>

#include <boost/asio/ssl.hpp>
#include <cpprest/containerstream.h>
#include <cpprest/http_client.h>

#include "common/log.h"
#include "kube/json_parse.h"

namespace prescient::kube {
namespace {

namespace http = web::http;
namespace hc = web::http::client;

const log::Logger& Log() {
  static const log::Logger* l = new log::Logger("kube.rest");
  return *l;
}

std::string Escape(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

class Query {
 public:
  Query& Add(const char* key, const std::string& value) {
    if (value.empty()) return *this;
    q_ += (q_.empty() ? "?" : "&");
    q_ += key;
    q_ += "=";
    q_ += Escape(value);
    return *this;
  }
  const std::string& str() const { return q_; }

 private:
  std::string q_;
};

struct HttpResult {
  int status = 0;
  std::string body;
  std::string content_type;
  std::string retry_after;
};

// Applies the TLS settings to a context. Throws boost::system::system_error on bad PEM.
void ConfigureTls(boost::asio::ssl::context& ctx, const Config& c) {
  if (!c.ca_pem.empty()) {
    // Trust only the configured CA, not the system store cpprestsdk loaded by default.
    SSL_CTX_set_cert_store(ctx.native_handle(), X509_STORE_new());
    ctx.add_certificate_authority(boost::asio::buffer(c.ca_pem.data(), c.ca_pem.size()));
  }
  if (!c.client_cert_pem.empty()) {
    ctx.use_certificate_chain(boost::asio::buffer(c.client_cert_pem.data(), c.client_cert_pem.size()));
    ctx.use_private_key(boost::asio::buffer(c.client_key_pem.data(), c.client_key_pem.size()),
                        boost::asio::ssl::context::pem);
  }
}

std::string HostOf(const std::string& server) {
  web::uri u(server);
  return u.host();
}

class RestClient final : public Client {
 public:
  RestClient(Config config, RestOptions options)
      : config_(std::move(config)),
        options_(std::move(options)),
        clock_(options_.clock ? options_.clock : &SystemClock()),
        tokens_(config_.token, config_.token_file),
        https_(config_.server.rfind("https://", 0) == 0) {
    client_ = std::make_unique<hc::http_client>(web::uri(config_.server), MakeConfig(options_.request_timeout));
  }

  Result<Json> Get(const ResourceType& type, const std::string& ns, const std::string& name) override {
    return DoJson("GET", type.Path(ns, name), "", "");
  }

  Result<ObjectList> List(const ResourceType& type, const std::string& ns, const ListOptions& o) override {
    Query q;
    q.Add("labelSelector", o.label_selector)
        .Add("fieldSelector", o.field_selector)
        .Add("resourceVersion", o.resource_version)
        .Add("resourceVersionMatch", o.resource_version_match)
        .Add("limit", o.limit > 0 ? std::to_string(o.limit) : "")
        .Add("continue", o.continue_token);
    auto r = DoJson("GET", type.Path(ns) + q.str(), "", "");
    if (!r.ok()) return r.status();
    ObjectList list;
    Json& j = *r;
    if (auto it = j.find("items"); it != j.end() && it->is_array()) {
      list.items.reserve(it->size());
      for (auto& item : *it) {
        // Items of a list carry no kind/apiVersion; add them so cached objects look like GET results.
        if (item.is_object()) {
          if (!item.contains("kind")) item["kind"] = type.kind;
          if (!item.contains("apiVersion")) item["apiVersion"] = type.ApiVersion();
        }
        list.items.push_back(std::move(item));
      }
    } else if (!j.contains("items") || !j["items"].is_null()) {
      return InternalError("list " + type.GroupResource() + " from " + config_.server + ": response has no items array");
    }
    if (auto m = j.find("metadata"); m != j.end() && m->is_object()) {
      list.resource_version = m->value("resourceVersion", "");
      list.continue_token = m->value("continue", "");
    }
    return list;
  }

  Result<Json> Create(const ResourceType& type, const Json& obj, const WriteOptions& o) override {
    std::string ns = Namespace(obj);
    if (type.namespaced && ns.empty()) {
      return InvalidArgument("create " + type.GroupResource() + ": metadata.namespace is empty");
    }
    return DoJson("POST", type.Path(ns) + WriteQuery(o).str(), obj.dump(), "application/json");
  }

  Result<Json> Update(const ResourceType& type, const Json& obj, const WriteOptions& o) override {
    return Put(type, obj, "", o);
  }

  Result<Json> UpdateStatus(const ResourceType& type, const Json& obj, const WriteOptions& o) override {
    return Put(type, obj, "status", o);
  }

  Status Delete(const ResourceType& type, const std::string& ns, const std::string& name,
                const DeleteOptions& o) override {
    Json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
    switch (o.propagation) {
      case PropagationPolicy::kDefault: break;
      case PropagationPolicy::kBackground: body["propagationPolicy"] = "Background"; break;
      case PropagationPolicy::kForeground: body["propagationPolicy"] = "Foreground"; break;
      case PropagationPolicy::kOrphan: body["propagationPolicy"] = "Orphan"; break;
    }
    if (!o.precondition_uid.empty()) body["preconditions"]["uid"] = o.precondition_uid;
    if (!o.precondition_resource_version.empty()) {
      body["preconditions"]["resourceVersion"] = o.precondition_resource_version;
    }
    if (o.grace_period_seconds) body["gracePeriodSeconds"] = *o.grace_period_seconds;
    auto r = Do("DELETE", type.Path(ns, name), body.dump(), "application/json");
    return r.ok() ? Status::Ok() : r.status();
  }

  Result<Json> Patch(const ResourceType& type, const std::string& ns, const std::string& name, PatchType pt,
                     const Json& patch, const PatchOptions& o) override {
    if (pt == PatchType::kApply && o.field_manager.empty()) {
      return InvalidArgument("apply patch of " + type.GroupResource() + " " + name + ": a fieldManager is required");
    }
    Query q;
    q.Add("fieldManager", o.field_manager);
    if (pt == PatchType::kApply && o.force) q.Add("force", "true");
    return DoJson("PATCH", type.Path(ns, name, o.subresource) + q.str(), patch.dump(), PatchContentType(pt));
  }

  Status Watch(const ResourceType& type, const std::string& ns, const ListOptions& o, const WatchHandler& on_event,
               Cancellation* cancel) override {
    Query q;
    q.Add("watch", "true")
        .Add("labelSelector", o.label_selector)
        .Add("fieldSelector", o.field_selector)
        .Add("resourceVersion", o.resource_version)
        .Add("timeoutSeconds", o.timeout_seconds > 0 ? std::to_string(o.timeout_seconds) : "")
        .Add("allowWatchBookmarks", o.allow_watch_bookmarks ? "true" : "");
    const std::string path = type.Path(ns) + q.str();
    const std::string what = "watch " + config_.server + path;
    auto idle = std::chrono::seconds(o.timeout_seconds > 0 ? o.timeout_seconds : 600) + options_.watch_idle_slack;
    hc::http_client watch_client(web::uri(config_.server), MakeConfig(idle));

    pplx::cancellation_token_source cts;
    int reg = cancel ? cancel->Register([cts]() mutable { cts.cancel(); }) : 0;
    struct Unregister {
      Cancellation* c;
      int id;
      ~Unregister() {
        if (c) c->Unregister(id);
      }
    } unregister{cancel, reg};
    if (cancel && cancel->cancelled()) return Status(Code::kCancelled, what + ": cancelled");

    http::http_request req(http::methods::GET);
    if (Status st = Prepare(&req, path, "", ""); !st.ok()) return st;
    http::http_response resp;
    try {
      resp = watch_client.request(req, cts.get_token()).get();
    } catch (const std::exception& e) {
      return TransportError(e, "GET", path, cts.get_token().is_canceled());
    }
    if (resp.status_code() != 200) {
      std::string body;
      try {
        body = resp.extract_utf8string(true).get();
      } catch (const std::exception&) {
      }
      return Decorate(StatusFromResponse(resp.status_code(), body, Header(resp, "Retry-After"), what));
    }
    // One event per line. The body is read in whatever pieces have arrived (waiting only for the first
    // byte), not with istream::read_line, which moves each character through cpprestsdk's buffer
    // machinery and cost about 100 us of CPU per 2 kB event, several times decoding it.
    auto body = resp.body().streambuf();
    using traits = concurrency::streams::streambuf<uint8_t>::traits;
    std::vector<uint8_t> chunk(64 * 1024);
    std::string pending;  // received bytes not yet ended by a newline
    // nullopt: go on reading; otherwise the watch's result.
    auto handle_line = [&](std::string_view line) -> std::optional<Status> {
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty()) return std::nullopt;
      auto ev = DecodeWatchEvent(line);
      if (!ev.ok()) {
        cts.cancel();
        return Status(Code::kInternal, ev.status().message() + " (" + what + ")");
      }
      if (ev->type == EventType::kError) {
        Status err = ev->error;
        on_event(std::move(*ev));
        cts.cancel();
        return Status(err.code(), err.message() + " [" + what + "]")
            .WithHttp(err.http_code(), err.reason())
            .WithRetryAfter(err.retry_after_seconds());
      }
      if (!on_event(std::move(*ev))) {
        cts.cancel();
        return Status::Ok();
      }
      return std::nullopt;
    };
    try {
      for (;;) {
        if (body.getc().get() == traits::eof()) break;  // waits until something arrived or the stream ended
        const size_t want = std::min(chunk.size(), std::max<size_t>(1, body.in_avail()));
        const size_t got = body.getn(chunk.data(), want).get();  // available now: does not wait
        if (got == 0) continue;
        pending.append(reinterpret_cast<const char*>(chunk.data()), got);
        size_t start = 0;
        for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
          if (auto done = handle_line(std::string_view(pending).substr(start, nl - start))) return *done;
        }
        pending.erase(0, start);
      }
      if (auto done = handle_line(pending)) return *done;  // a last line without a newline
    } catch (const std::exception& e) {
      return TransportError(e, "GET", path, cts.get_token().is_canceled());
    }
    return Status::Ok();
  }

  Result<RawResponse> Raw(const std::string& method, const std::string& path, const std::string& body,
                          const std::string& content_type) override {
    auto r = Do(method, path, body, body.empty() ? "" : content_type);
    if (!r.ok()) return r.status();
    return RawResponse{r->status, std::move(r->body), std::move(r->content_type)};
  }

  // Checks that the TLS material loads, so a bad PEM is reported at start-up, not per request.
  Status ValidateTls() const {
    if (!https_) return Status::Ok();
    try {
      boost::asio::ssl::context ctx(boost::asio::ssl::context::sslv23);
      ConfigureTls(ctx, config_);
    } catch (const std::exception& e) {
      return InvalidArgument("TLS material from " + config_.source + " does not load (certificate authority, client "
                             "certificate or key is not valid PEM): " + e.what());
    }
    return Status::Ok();
  }

 private:
  hc::http_client_config MakeConfig(std::chrono::milliseconds timeout) const {
    hc::http_client_config cfg;
    cfg.set_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
    if (https_) {
      // Verification is on unless the kubeconfig explicitly asked for insecure-skip-tls-verify.
      cfg.set_validate_certificates(!config_.insecure_skip_tls_verify);
      Config tls = config_;
      cfg.set_ssl_context_callback([tls](boost::asio::ssl::context& ctx) { ConfigureTls(ctx, tls); });
    }
    return cfg;
  }

  static std::string Namespace(const Json& obj) {
    auto m = obj.find("metadata");
    if (m == obj.end() || !m->is_object()) return "";
    return m->value("namespace", "");
  }

  static Query WriteQuery(const WriteOptions& o) {
    Query q;
    q.Add("fieldManager", o.field_manager).Add("dryRun", o.dry_run ? "All" : "");
    return q;
  }

  Result<Json> Put(const ResourceType& type, const Json& obj, const std::string& sub, const WriteOptions& o) {
    auto m = obj.find("metadata");
    std::string name = m != obj.end() && m->is_object() ? m->value("name", "") : "";
    if (name.empty()) return InvalidArgument("update " + type.GroupResource() + ": metadata.name is empty");
    return DoJson("PUT", type.Path(Namespace(obj), name, sub) + WriteQuery(o).str(), obj.dump(), "application/json");
  }

  static std::string Header(const http::http_response& resp, const char* name) {
    auto it = resp.headers().find(name);
    return it == resp.headers().end() ? "" : it->second;
  }

  Status Prepare(http::http_request* req, const std::string& path, const std::string& body,
                 const std::string& content_type) {
    req->set_request_uri(path);
    req->headers().add("Accept", "application/json");
    req->headers().add("User-Agent", options_.user_agent);
    if (https_ && !config_.tls_server_name.empty()) {
      // cpprestsdk verifies the certificate (and sends SNI) for the Host header's name.
      req->headers().add("Host", config_.tls_server_name);
    }
    if (!tokens_.empty()) {
      auto t = tokens_.Token();
      if (!t.ok()) return Decorate(t.status());
      req->headers().add("Authorization", "Bearer " + *t);
    }
    if (!content_type.empty()) req->set_body(body, content_type);
    return Status::Ok();
  }

  // Adds where the credentials or CA came from to errors a user has to fix in their configuration.
  Status Decorate(Status st) const {
    if (st.code() == Code::kUnauthorized) {
      std::string who = config_.user_name.empty() ? "" : " of user \"" + config_.user_name + "\"";
      return Status(st.code(), "API server " + config_.server + " refused the credentials" + who + " from " +
                                   config_.source + ": " + st.message())
          .WithHttp(st.http_code(), st.reason());
    }
    return st;
  }

  Status TransportError(const std::exception& e, const std::string& method, const std::string& path,
                        bool cancelled) const {
    std::string what = std::string(e.what());
    std::string where = method + " " + config_.server + path;
    if (cancelled) return Status(Code::kCancelled, where + ": cancelled");
    if (what.find("SSL handshake") != std::string::npos || what.find("certificate") != std::string::npos) {
      if (auto* he = dynamic_cast<const http::http_exception*>(&e)) {
        // cpprestsdk passes OpenSSL's packed error on as a generic code: let OpenSSL name it.
        const char* r = ERR_reason_error_string(static_cast<unsigned long>(he->error_code().value()));
        if (r) what += std::string(": ") + r;
      }
      std::string ca = config_.ca_pem.empty() ? "the system trust store" : "the certificate authority from " + config_.source;
      std::string name = config_.tls_server_name.empty() ? HostOf(config_.server) : config_.tls_server_name;
      return Status(Code::kUnavailable, "TLS connection to " + config_.server + " failed: the server certificate does "
                                        "not verify against " + ca + " for name \"" + name + "\" (" + what + ")")
          .WithHttp(0, "TLSVerificationFailed");
    }
    if (auto* he = dynamic_cast<const http::http_exception*>(&e)) {
      if (he->error_code() == std::errc::timed_out) {
        return Status(Code::kTimeout, where + ": timed out (" + what + ")");
      }
    }
    return Status(Code::kUnavailable, "cannot reach the API server " + config_.server + " (" + config_.source +
                                          "): " + what + " [" + where + "]");
  }

  Result<HttpResult> DoOnce(const std::string& method, const std::string& path, const std::string& body,
                            const std::string& content_type) {
    http::http_request req(method);
    if (Status st = Prepare(&req, path, body, content_type); !st.ok()) return st;
    HttpResult out;
    try {
      http::http_response resp = client_->request(req).get();
      out.status = resp.status_code();
      out.body = resp.extract_utf8string(true).get();
      out.content_type = Header(resp, "Content-Type");
      out.retry_after = Header(resp, "Retry-After");
    } catch (const std::exception& e) {
      return TransportError(e, method, path, false);
    }
    if (out.status < 200 || out.status > 299) {
      return Decorate(StatusFromResponse(out.status, out.body, out.retry_after, method + " " + config_.server + path));
    }
    return out;
  }

  Result<HttpResult> Do(const std::string& method, const std::string& path, const std::string& body,
                        const std::string& content_type) {
    Backoff backoff(options_.retry.backoff);
    for (int attempt = 1;; ++attempt) {
      auto r = DoOnce(method, path, body, content_type);
      if (r.ok()) return r;
      const Status& st = r.status();
      if (st.reason() == "TLSVerificationFailed") return st;  // asking again will not change the certificate
      auto delay = RetryDelay(st, attempt, options_.retry, &backoff);
      if (delay.count() < 0) return st;
      Log().Debug("retrying API request", {{"method", method},
                                           {"path", path},
                                           {"attempt", attempt},
                                           {"delay_ms", delay.count()},
                                           {"error", st.ToString()}});
      clock_->SleepFor(delay);
    }
  }

  Result<Json> DoJson(const std::string& method, const std::string& path, const std::string& body,
                      const std::string& content_type) {
    auto r = Do(method, path, body, content_type);
    if (!r.ok()) return r.status();
    Json j = ParseJson(r->body);
    if (j.is_discarded()) {
      return InternalError(method + " " + config_.server + path + ": the response is not JSON: " + r->body.substr(0, 120));
    }
    return j;
  }

  Config config_;
  RestOptions options_;
  Clock* clock_;
  TokenSource tokens_;
  bool https_;
  std::unique_ptr<hc::http_client> client_;
};

}  // namespace

Result<std::unique_ptr<Client>> NewRestClient(const Config& config, const RestOptions& options) {
  if (config.server.empty()) return InvalidArgument("no API server address in " + config.source);
  if (config.server.rfind("https://", 0) != 0 && config.server.rfind("http://", 0) != 0) {
    return InvalidArgument("API server address \"" + config.server + "\" from " + config.source +
                           " must start with https:// or http://");
  }
  if (config.insecure_skip_tls_verify) {
    Log().Warn("TLS verification of the API server is disabled by insecure-skip-tls-verify",
               {{"server", config.server}, {"source", config.source}});
  }
  std::unique_ptr<RestClient> c;
  try {
    c = std::make_unique<RestClient>(config, options);
  } catch (const std::exception& e) {
    return InvalidArgument("API server address \"" + config.server + "\" from " + config.source + ": " + e.what());
  }
  if (Status st = c->ValidateTls(); !st.ok()) return st;
  return std::unique_ptr<Client>(std::move(c));
}

}  // namespace prescient::kube

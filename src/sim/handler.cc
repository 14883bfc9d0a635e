#include "sim/handler.h"

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <map>
#include <regex>
#include <tuple>
#include <thread>

#include "sim/api_docs.h"
#include "sim/protobuf.h"
#include "sim/table.h"
#include "sim/yaml_json.h"

namespace prescient::sim {
namespace {

using Query = std::map<std::string, std::string>;

Status Err(Code c, int http, const char* reason, std::string msg) { return Status(c, std::move(msg)).WithHttp(http, reason); }

Status BadRequest(std::string msg) { return Err(Code::kInvalidArgument, 400, "BadRequest", std::move(msg)); }

Status NotFoundPath() {
  return Err(Code::kNotFound, 404, "NotFound", "the server could not find the requested resource");
}

std::pair<int, const char*> HttpFor(const Status& s) {
  if (s.http_code() != 0) return {s.http_code(), nullptr};
  switch (s.code()) {
    case Code::kNotFound: return {404, "NotFound"};
    case Code::kAlreadyExists: return {409, "AlreadyExists"};
    case Code::kConflict: return {409, "Conflict"};
    case Code::kInvalid: return {422, "Invalid"};
    case Code::kForbidden: return {403, "Forbidden"};
    case Code::kUnauthorized: return {401, "Unauthorized"};
    case Code::kExpired: return {410, "Expired"};
    case Code::kTooManyRequests: return {429, "TooManyRequests"};
    case Code::kInvalidArgument: return {400, "BadRequest"};
    case Code::kUnsupported: return {415, "UnsupportedMediaType"};
    case Code::kTimeout: return {504, "Timeout"};
    case Code::kUnavailable: return {503, "ServiceUnavailable"};
    default: return {500, "InternalError"};
  }
}

Query ParseQuery(std::string_view q) {
  Query out;
  size_t start = 0;
  while (start <= q.size() && !q.empty()) {
    size_t amp = q.find('&', start);
    std::string_view kv = q.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    if (!kv.empty()) {
      size_t eq = kv.find('=');
      std::string k = PercentDecode(kv.substr(0, eq), true);
      std::string v = eq == std::string_view::npos ? "" : PercentDecode(kv.substr(eq + 1), true);
      out[k] = v;
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  return out;
}

std::string Get(const Query& q, const std::string& k) {
  auto it = q.find(k);
  return it == q.end() ? "" : it->second;
}

bool Truthy(const std::string& v) { return v == "true" || v == "1"; }

HttpResponse JsonResponse(int status, const Json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump();
  return r;
}

std::string ToLower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Json PartialMetadata(const Json& obj) {
  Json md = obj.value("metadata", Json::object());
  return {{"kind", "PartialObjectMetadata"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", md}};
}

enum class Representation { kObject, kTable, kPartialMetadata };

Representation RepresentationFor(const std::string& accept) {
  // Accept lists alternatives in preference order; the first one we can produce wins.
  size_t start = 0;
  while (start < accept.size()) {
    size_t comma = accept.find(',', start);
    std::string part = accept.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? accept.size() : comma + 1;
    std::string p;
    for (char c : part) {
      if (c != ' ') p += c;
    }
    if (p.find("as=Table") != std::string::npos && p.find("g=meta.k8s.io") != std::string::npos) return Representation::kTable;
    if (p.find("as=PartialObjectMetadata") != std::string::npos) return Representation::kPartialMetadata;
    if (p.rfind("application/json", 0) == 0 || p.rfind("*/*", 0) == 0 || p.rfind("application/yaml", 0) == 0) {
      return Representation::kObject;
    }
  }
  return Representation::kObject;
}

// Rebuilds details.causes from an Invalid message ("Kind \"n\" is invalid: [f: Type: detail, ...]"),
// which kubectl prints field by field.
Json CausesFromInvalid(const std::string& message) {
  static const std::regex kCause(
      R"((?:^|, |\[)([A-Za-z0-9_.<>/-][A-Za-z0-9_.\[\]<>/-]*): (Invalid value|Required value|Unsupported value|Forbidden|Too long|Too many|Duplicate value|Not found))");
  static const std::map<std::string, std::string> kReasons = {
      {"Invalid value", "FieldValueInvalid"},     {"Required value", "FieldValueRequired"},
      {"Unsupported value", "FieldValueNotSupported"}, {"Forbidden", "FieldValueForbidden"},
      {"Too long", "FieldValueTooLong"},          {"Too many", "FieldValueTooMany"},
      {"Duplicate value", "FieldValueDuplicate"}, {"Not found", "FieldValueNotFound"}};
  Json causes = Json::array();
  auto pos = message.find(" is invalid: ");
  if (pos == std::string::npos) return causes;
  std::string rest = message.substr(pos + 13);
  std::vector<std::tuple<size_t, size_t, std::string, std::string>> hits;  // start, text start, field, type
  for (auto it = std::sregex_iterator(rest.begin(), rest.end(), kCause); it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    hits.emplace_back(m.position(0), m.position(1), m[1].str(), m[2].str());
  }
  for (size_t i = 0; i < hits.size(); ++i) {
    auto [start, text, field, type] = hits[i];
    size_t end = i + 1 < hits.size() ? std::get<0>(hits[i + 1]) : rest.size();
    std::string body = rest.substr(text + field.size() + 2, end - text - field.size() - 2);
    if (i + 1 == hits.size() && !body.empty() && body.back() == ']' && rest.front() == '[') body.pop_back();
    causes.push_back({{"reason", kReasons.at(type)}, {"message", body}, {"field", field}});
  }
  return causes;
}

}  // namespace

std::string HttpRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() &&
        std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      return v;
    }
  }
  return "";
}

std::string PercentDecode(std::string_view s, bool query) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else if (c == '+' && query) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

Json StatusJson(const Status& s) {
  auto [code, reason] = HttpFor(s);
  std::string r = s.reason().empty() ? (reason ? reason : "InternalError") : s.reason();
  Json j = {{"kind", "Status"},      {"apiVersion", "v1"}, {"metadata", Json::object()},
            {"status", "Failure"},   {"message", s.message()}, {"reason", r},
            {"code", code}};
  if (s.retry_after_seconds() > 0) j["details"] = {{"retryAfterSeconds", s.retry_after_seconds()}};
  return j;
}

HttpResponse StatusResponse(const Status& s) {
  Json j = StatusJson(s);
  HttpResponse r = JsonResponse(j["code"].get<int>(), j);
  if (s.retry_after_seconds() > 0) r.headers.emplace_back("Retry-After", std::to_string(s.retry_after_seconds()));
  return r;
}

// ---------------------------------------------------------------------------------------------
// WatchStream

WatchStream::WatchStream(std::shared_ptr<Watch> watch, Encoder encode, std::string bookmark_kind,
                         std::string bookmark_api_version, bool bookmarks, Clock* clock,
                         std::chrono::milliseconds bookmark_interval, std::chrono::milliseconds timeout)
    : watch_(std::move(watch)), encode_(std::move(encode)), bookmark_kind_(std::move(bookmark_kind)),
      bookmark_api_version_(std::move(bookmark_api_version)), bookmarks_(bookmarks), clock_(clock),
      bookmark_interval_(bookmark_interval) {
  auto now = clock_->Monotonic();
  next_bookmark_ = now + bookmark_interval_;
  deadline_ = now + timeout;
}

std::shared_ptr<WatchStream> WatchStream::Error(Json status) {
  std::shared_ptr<WatchStream> s(new WatchStream());
  s->pending_error_ = Json({{"type", "ERROR"}, {"object", std::move(status)}}).dump() + "\n";
  s->deadline_ = std::chrono::steady_clock::now();
  s->next_bookmark_ = s->deadline_;
  return s;
}

WatchStream::~WatchStream() {
  if (watch_) watch_->Close();
}

void WatchStream::SetNotify(std::function<void()> notify) {
  if (watch_) watch_->SetNotify(std::move(notify));
}

void WatchStream::Cancel() {
  if (watch_) watch_->Close();
  done_ = true;
}

std::chrono::steady_clock::time_point WatchStream::NextDeadline() const {
  return bookmarks_ ? std::min(next_bookmark_, deadline_) : deadline_;
}

bool WatchStream::Poll(std::string* out) {
  if (done_) return false;
  if (!watch_) {
    *out += pending_error_;
    done_ = true;
    return false;
  }
  // Read the bookmark RV before draining: every event at or below it is then in the queue.
  int64_t bookmark_rv = watch_->CurrentResourceVersion();
  std::vector<Watch::Item> items;
  bool open = watch_->Drain(&items);
  for (auto& item : items) {
    Json obj = item.type == "ERROR" ? *item.object : encode_(*item.object, first_);
    if (item.type != "ERROR") first_ = false;
    out->append(R"({"type":")").append(item.type).append(R"(","object":)").append(obj.dump()).append("}\n");
    last_rv_ = std::max(last_rv_, item.resource_version);
  }
  auto now = clock_->Monotonic();
  if (bookmarks_ && now >= next_bookmark_) {
    int64_t rv = std::max(last_rv_, bookmark_rv);
    Json bm = {{"kind", bookmark_kind_},
               {"apiVersion", bookmark_api_version_},
               {"metadata", {{"resourceVersion", std::to_string(rv)}, {"creationTimestamp", nullptr}}}};
    out->append(R"({"type":"BOOKMARK","object":)").append(bm.dump()).append("}\n");
    next_bookmark_ = now + bookmark_interval_;
  }
  if (!open || now >= deadline_) {
    done_ = true;
    watch_->Close();
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Faults

Json FaultConfig::ToJson() const {
  return {{"errorShare", error_share},
          {"errorCodes", error_codes},
          {"delayShare", delay_share},
          {"delayMs", delay_ms},
          {"retryAfterSeconds", retry_after_seconds}};
}

Result<FaultConfig> ParseFaults(const Json& j, const FaultConfig& base, bool* drop_watches,
                                std::optional<size_t>* history_size) {
  if (!j.is_object()) return BadRequest("faults: expected a JSON object");
  FaultConfig f = base;
  *drop_watches = false;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const Json& v = *it;
    if (k == "dropWatches") {
      if (!v.is_boolean()) return BadRequest("faults.dropWatches: expected a boolean");
      *drop_watches = v.get<bool>();
    } else if (k == "errorShare" || k == "delayShare") {
      if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > 1) {
        return BadRequest("faults." + k + ": expected a number between 0 and 1");
      }
      (k == "errorShare" ? f.error_share : f.delay_share) = v.get<double>();
    } else if (k == "errorCodes") {
      if (!v.is_array() || v.empty()) return BadRequest("faults.errorCodes: expected a non-empty array of HTTP codes");
      std::vector<int> codes;
      for (const auto& c : v) {
        if (!c.is_number_integer() || c.get<int>() < 400 || c.get<int>() > 599) {
          return BadRequest("faults.errorCodes: " + c.dump() + " is not an HTTP error code (400-599)");
        }
        codes.push_back(c.get<int>());
      }
      f.error_codes = codes;
    } else if (k == "delayMs" || k == "retryAfterSeconds") {
      if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 600000) {
        return BadRequest("faults." + k + ": expected a non-negative integer");
      }
      (k == "delayMs" ? f.delay_ms : f.retry_after_seconds) = v.get<int>();
    } else if (k == "historySize") {
      if (!v.is_number_integer() || v.get<int64_t>() < 0) return BadRequest("faults.historySize: expected a non-negative integer");
      *history_size = v.get<size_t>();
    } else {
      return BadRequest("faults: unknown field \"" + k +
                        "\" (known: dropWatches, errorShare, errorCodes, delayMs, delayShare, retryAfterSeconds, historySize)");
    }
  }
  return f;
}

// ---------------------------------------------------------------------------------------------
// ApiHandler

struct ApiHandler::Route {
  GroupVersionResource gvr;
  std::string ns;
  bool ns_in_path = false;
  std::string name;
  std::string sub;
  std::shared_ptr<const ResourceInfo> info;
  Query query;
};

ApiHandler::ApiHandler(Store* store, HandlerOptions options)
    : store_(store), options_(std::move(options)), clock_(options_.clock ? options_.clock : &SystemClock()),
      rng_(options_.fault_seed ? options_.fault_seed : std::random_device{}()) {}

void ApiHandler::SetFaults(const FaultConfig& f) {
  std::lock_guard<std::mutex> l(mu_);
  faults_ = f;
}

FaultConfig ApiHandler::faults() const {
  std::lock_guard<std::mutex> l(mu_);
  return faults_;
}

void ApiHandler::set_server_address(std::string a) {
  std::lock_guard<std::mutex> l(mu_);
  options_.server_address = std::move(a);
}

HttpResponse ApiHandler::Handle(const HttpRequest& request) {
  try {
    return Dispatch(request);
  } catch (const std::exception& e) {
    // Impossible by design; loud, but the server keeps serving.
    return StatusResponse(Err(Code::kInternal, 500, "InternalError", std::string("internal error: ") + e.what()));
  }
}

bool ApiHandler::InjectFault(const HttpRequest& request, HttpResponse* out) {
  (void)request;
  double err_roll, delay_roll;
  FaultConfig f;
  int code;
  {
    std::lock_guard<std::mutex> l(mu_);
    f = faults_;
    if (f.error_share <= 0 && f.delay_share <= 0) return false;
    std::uniform_real_distribution<double> u(0, 1);
    err_roll = u(rng_);
    delay_roll = u(rng_);
    code = f.error_codes.empty() ? 500 : f.error_codes[rng_() % f.error_codes.size()];
  }
  if (delay_roll < f.delay_share && f.delay_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(f.delay_ms));
  }
  if (err_roll >= f.error_share) return false;
  Status s;
  switch (code) {
    case 409:
      s = Err(Code::kConflict, 409, "Conflict",
              "Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest "
              "version and try again (injected fault)");
      break;
    case 429:
      s = Err(Code::kTooManyRequests, 429, "TooManyRequests", "the server has received too many requests and has asked us to try again later (injected fault)");
      s.WithRetryAfter(f.retry_after_seconds);
      break;
    case 503:
      s = Err(Code::kUnavailable, 503, "ServiceUnavailable", "the server is currently unable to handle the request (injected fault)");
      s.WithRetryAfter(f.retry_after_seconds);
      break;
    case 504:
      s = Err(Code::kTimeout, 504, "Timeout", "the server was unable to return a response in the time allotted (injected fault)");
      break;
    case 500:
      s = Err(Code::kServerError, 500, "InternalError", "Internal error occurred: injected fault");
      break;
    default:
      s = Err(Code::kServerError, code, code < 500 ? "BadRequest" : "InternalError", "injected fault " + std::to_string(code));
  }
  *out = StatusResponse(s);
  return true;
}

HttpResponse ApiHandler::HandleAdmin(const HttpRequest& req, const std::string& path) {
  if (path != "/admin/faults") return StatusResponse(NotFoundPath());
  if (req.method == "GET") return JsonResponse(200, faults().ToJson());
  if (req.method == "DELETE") {
    SetFaults(FaultConfig{});
    return JsonResponse(200, FaultConfig{}.ToJson());
  }
  if (req.method != "POST" && req.method != "PUT") {
    return StatusResponse(Err(Code::kInvalidArgument, 405, "MethodNotAllowed", "use GET, POST or DELETE on /admin/faults"));
  }
  auto body = ParseJsonOrYaml(req.body);
  if (!body.ok()) return StatusResponse(body.status());
  bool drop = false;
  std::optional<size_t> history;
  auto f = ParseFaults(*body, faults(), &drop, &history);
  if (!f.ok()) return StatusResponse(f.status());
  SetFaults(*f);
  if (history) store_->SetWatchHistory(*history);
  if (drop) store_->CloseAllWatches();
  return JsonResponse(200, f->ToJson());
}

HttpResponse ApiHandler::Dispatch(const HttpRequest& req) {
  std::string target = req.target;
  size_t qpos = target.find('?');
  std::string raw_path = target.substr(0, qpos);
  std::string path = PercentDecode(raw_path, false);
  Query query = ParseQuery(qpos == std::string::npos ? "" : std::string_view(target).substr(qpos + 1));
  while (path.size() > 1 && path.back() == '/') path.pop_back();

  if (path == "/healthz" || path == "/readyz" || path == "/livez" || path.rfind("/healthz/", 0) == 0 ||
      path.rfind("/readyz/", 0) == 0 || path.rfind("/livez/", 0) == 0) {
    HttpResponse r;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "ok";
    return r;
  }
  if (path == "/version") {
    return JsonResponse(200, {{"major", "1"},
                              {"minor", "32"},
                              {"gitVersion", "v1.32.0-prescient-sim"},
                              {"gitCommit", "0000000000000000000000000000000000000000"},
                              {"gitTreeState", "clean"},
                              {"buildDate", "2026-01-01T00:00:00Z"},
                              {"goVersion", "go1.23.0"},
                              {"compiler", "gc"},
                              {"platform", "linux/amd64"}});
  }
  if (!options_.token.empty()) {
    std::string auth = req.Header("Authorization");
    const std::string want = "Bearer " + options_.token;
    bool ok = auth.size() == want.size();
    unsigned diff = 0;
    for (size_t i = 0; ok && i < want.size(); ++i) diff |= static_cast<unsigned>(auth[i] ^ want[i]);
    if (!ok || diff != 0) return StatusResponse(Err(Code::kUnauthorized, 401, "Unauthorized", "Unauthorized"));
  }
  if (req.body.size() > options_.max_body_bytes) {
    return StatusResponse(Err(Code::kInvalidArgument, 413, "RequestEntityTooLarge",
                              "Request entity too large: limit is " + std::to_string(options_.max_body_bytes)));
  }
  if (path.rfind("/admin/", 0) == 0) return HandleAdmin(req, path);
  bool api = path == "/api" || path == "/apis" || path.rfind("/api/", 0) == 0 || path.rfind("/apis/", 0) == 0;
  if (api) {
    HttpResponse fault;
    if (InjectFault(req, &fault)) return fault;
  }
  if (path == "/openapi/v2") {
    return StatusResponse(Err(Code::kNotFound, 404, "NotFound", "the server could not find the requested resource"));
  }
  if (path == "/openapi/v3") return JsonResponse(200, OpenApiRoot(store_->Resources()));
  if (path.rfind("/openapi/v3/", 0) == 0) {
    auto doc = OpenApiGroupVersion(store_->Resources(), path.substr(12));
    if (!doc) return StatusResponse(NotFoundPath());
    return JsonResponse(200, *doc);
  }
  if (!api) return StatusResponse(NotFoundPath());
  if (req.method != "GET" && (path == "/api" || path == "/apis")) {
    return StatusResponse(Err(Code::kInvalidArgument, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource"));
  }
  bool aggregated = req.Header("Accept").find("as=APIGroupDiscoveryList") != std::string::npos;
  if (path == "/api" || path == "/apis") {
    auto resources = store_->Resources();
    if (aggregated) {
      HttpResponse r = JsonResponse(200, AggregatedDiscovery(resources, path == "/api"));
      r.content_type = kAggregatedDiscoveryContentType;
      return r;
    }
    if (path == "/api") {
      std::string addr;
      {
        std::lock_guard<std::mutex> l(mu_);
        addr = options_.server_address;
      }
      return JsonResponse(200, LegacyApiVersions(addr));
    }
    return JsonResponse(200, ApiGroupList(resources));
  }
  // Split into segments.
  std::vector<std::string> parts;
  {
    size_t start = 1;
    while (start <= path.size()) {
      size_t slash = path.find('/', start);
      parts.push_back(path.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
  }
  for (const auto& p : parts) {
    if (p.empty()) return StatusResponse(NotFoundPath());
  }
  Route route;
  route.query = std::move(query);
  std::vector<std::string> rest;
  if (parts[0] == "api") {
    if (parts.size() < 2 || parts[1] != "v1") return StatusResponse(NotFoundPath());
    route.gvr.version = "v1";
    rest.assign(parts.begin() + 2, parts.end());
  } else {
    if (parts.size() == 2) {
      if (req.method != "GET") return StatusResponse(NotFoundPath());
      auto g = ApiGroup(store_->Resources(), parts[1]);
      if (!g) return StatusResponse(NotFoundPath());
      return JsonResponse(200, *g);
    }
    route.gvr.group = parts[1];
    route.gvr.version = parts[2];
    rest.assign(parts.begin() + 3, parts.end());
  }
  if (rest.empty()) {
    if (req.method != "GET") return StatusResponse(NotFoundPath());
    auto list = ApiResourceList(store_->Resources(), route.gvr.group, route.gvr.version);
    if (!list) return StatusResponse(NotFoundPath());
    return JsonResponse(200, *list);
  }
  if (rest[0] == "namespaces" && rest.size() >= 3 && !(rest.size() == 3 && (rest[2] == "status" || rest[2] == "finalize"))) {
    route.ns = rest[1];
    route.ns_in_path = true;
    route.gvr.resource = rest[2];
    if (rest.size() > 3) route.name = rest[3];
    if (rest.size() > 4) route.sub = rest[4];
    if (rest.size() > 5) return StatusResponse(NotFoundPath());
  } else {
    route.gvr.resource = rest[0];
    if (rest.size() > 1) route.name = rest[1];
    if (rest.size() > 2) route.sub = rest[2];
    if (rest.size() > 3) return StatusResponse(NotFoundPath());
  }
  auto info = store_->FindResourceShared(route.gvr);
  if (!info) return StatusResponse(NotFoundPath());
  route.info = info;
  if (route.ns_in_path && !info->namespaced) return StatusResponse(NotFoundPath());
  return HandleResource(req, route);
}

HttpResponse ApiHandler::HandleResource(const HttpRequest& req, Route& rt) {
  const ResourceInfo& info = *rt.info;
  const Query& q = rt.query;
  const std::string& m = req.method;
  std::string gv = rt.gvr.ApiVersion();
  auto now = clock_->Now();
  Representation rep = RepresentationFor(req.Header("Accept"));
  std::string include = Get(q, "includeObject");
  TableObject include_obj = include == "Object" ? TableObject::kObject
                            : include == "None" ? TableObject::kNone
                                                : TableObject::kMetadata;
  if (!include.empty() && include != "Object" && include != "None" && include != "Metadata") {
    return StatusResponse(BadRequest("includeObject: Unsupported value: \"" + include + "\": supported values: \"None\", \"Metadata\", \"Object\""));
  }
  // Errors about one object carry its name and resource in details, like upstream.
  auto fail = [&](const Status& s) {
    HttpResponse r = StatusResponse(s);
    if (!rt.name.empty() || s.code() == Code::kAlreadyExists || s.code() == Code::kInvalid) {
      Json j = Json::parse(r.body);
      Json details = j.value("details", Json::object());
      std::string name = rt.name;
      if (name.empty()) {
        // "configmaps \"x\" already exists" -> x
        auto a = s.message().find('"');
        auto b = a == std::string::npos ? a : s.message().find('"', a + 1);
        if (b != std::string::npos) name = s.message().substr(a + 1, b - a - 1);
      }
      if (!name.empty()) details["name"] = name;
      if (!rt.gvr.group.empty()) details["group"] = rt.gvr.group;
      details["kind"] = s.code() == Code::kInvalid ? info.kind : info.plural;
      if (s.code() == Code::kInvalid) {
        Json causes = CausesFromInvalid(s.message());
        if (!causes.empty()) details["causes"] = causes;
      }
      j["details"] = details;
      r.body = j.dump();
    }
    return r;
  };
  auto present = [&](const Json& obj, bool first = true) -> Json {
    if (rep == Representation::kTable) {
      return MakeTable(info, {obj}, obj["metadata"].value("resourceVersion", ""), "", now, include_obj, first);
    }
    if (rep == Representation::kPartialMetadata) return PartialMetadata(obj);
    return obj;
  };
  WriteOptions wo;
  std::vector<std::string> warnings;
  wo.warnings = &warnings;
  bool created = false;
  wo.created = &created;
  std::string dry = Get(q, "dryRun");
  if (!dry.empty() && dry != "All") {
    return StatusResponse(BadRequest("dryRun: Unsupported value: \"" + dry + "\": supported values: \"All\""));
  }
  wo.dry_run = dry == "All";
  std::string fv = Get(q, "fieldValidation");
  if (fv.empty() || fv == "Warn") {
    wo.field_validation = FieldValidation::kWarn;
  } else if (fv == "Strict") {
    wo.field_validation = FieldValidation::kStrict;
  } else if (fv == "Ignore") {
    wo.field_validation = FieldValidation::kIgnore;
  } else {
    return StatusResponse(BadRequest("fieldValidation: Unsupported value: \"" + fv +
                                     "\": supported values: \"Ignore\", \"Strict\", \"Warn\""));
  }
  wo.field_manager = Get(q, "fieldManager");
  if (wo.field_manager.size() > 128) {
    return StatusResponse(Err(Code::kInvalid, 422, "Invalid", "fieldManager: Too long: may not be longer than 128"));
  }
  if (wo.field_manager.empty()) {
    std::string ua = req.Header("User-Agent");
    wo.field_manager = ua.substr(0, ua.find('/'));
    if (wo.field_manager.empty()) wo.field_manager = "unknown";
  }
  wo.force = Truthy(Get(q, "force"));
  auto with_warnings = [&](HttpResponse r) {
    for (const auto& w : warnings) r.headers.emplace_back("Warning", "299 - " + Json(w).dump());
    return r;
  };
  // A Kubernetes protobuf body (kubectl's generators send them) as the JSON the rest works with;
  // fields the decoder has no table entry for are treated as unknown JSON fields are.
  auto decode_protobuf = [&](Json* out) -> Status {
    auto decoded = DecodeProtobufObject(req.body);
    if (!decoded.ok()) return decoded.status();
    if (!decoded->unknown_fields.empty() && wo.field_validation != FieldValidation::kIgnore) {
      std::string msg;
      for (const auto& u : decoded->unknown_fields) {
        if (wo.field_validation == FieldValidation::kWarn) warnings.push_back("unknown " + u.ToString());
        msg += (msg.empty() ? "unknown " : ", unknown ") + u.ToString();
      }
      if (decoded->more_unknown_fields > 0) msg += ", and " + std::to_string(decoded->more_unknown_fields) + " more";
      if (wo.field_validation == FieldValidation::kStrict) return BadRequest("strict decoding error: " + msg);
    }
    *out = std::move(decoded->object);
    return Status::Ok();
  };
  auto parse_body = [&](Json* out) -> Status {
    std::string ct = ToLower(req.Header("Content-Type"));
    bool protobuf = ct.find("protobuf") != std::string::npos;
    // Custom resources have no protobuf form (as upstream); built-in kinds do.
    if ((protobuf && !info.builtin) || ct.find("cbor") != std::string::npos) {
      return Err(Code::kUnsupported, 415, "UnsupportedMediaType",
                 "the body of the request was in an unknown format - accepted media types include: application/json, "
                 "application/yaml");
    }
    if (req.body.empty()) return BadRequest("the request body is empty");
    if (protobuf) return decode_protobuf(out);
    auto b = ParseJsonOrYaml(req.body);
    if (!b.ok()) return b.status();
    if (!b->is_object()) {
      return BadRequest(std::string("the body of the request must be a JSON object, not ") + b->type_name());
    }
    *out = std::move(*b);
    return Status::Ok();
  };
  auto check_kind = [&](Json* obj) -> Status {
    std::string want_kind = rt.sub == "binding" ? "Binding" : info.kind;
    std::string want_av = rt.sub == "binding" ? "v1" : gv;
    if (obj->contains("apiVersion")) {
      if (!(*obj)["apiVersion"].is_string()) return BadRequest("apiVersion: must be a string");
      std::string av = (*obj)["apiVersion"].get<std::string>();
      if (av != want_av && !(rt.sub == "binding" && av == "v1")) {
        return BadRequest("the API version in the data (" + av + ") does not match the expected API version (" + want_av + ")");
      }
    }
    if (obj->contains("kind")) {
      if (!(*obj)["kind"].is_string()) return BadRequest("kind: must be a string");
      std::string k = (*obj)["kind"].get<std::string>();
      if (k != want_kind) {
        return BadRequest("the kind in the data (" + k + ") does not match the expected kind (" + want_kind + ")");
      }
    }
    if (obj->contains("metadata") && !(*obj)["metadata"].is_object() && !(*obj)["metadata"].is_null()) {
      return BadRequest("metadata: must be an object");
    }
    return Status::Ok();
  };
  bool collection = rt.name.empty();

  // ---- collection ----
  if (collection) {
    if (m == "GET") {
      if (Truthy(Get(q, "watch"))) {
        WatchOptions wopt;
        wopt.label_selector = Get(q, "labelSelector");
        wopt.field_selector = Get(q, "fieldSelector");
        wopt.resource_version = Get(q, "resourceVersion");
        auto w = store_->StartWatch(rt.gvr, rt.ns, wopt);
        HttpResponse r;
        r.content_type = rep == Representation::kTable ? "application/json;as=Table;v=v1;g=meta.k8s.io" : "application/json";
        if (!w.ok()) {
          if (w.status().code() != Code::kExpired) return fail(w.status());
          r.watch = WatchStream::Error(StatusJson(w.status()));
          return r;
        }
        long timeout = 1800;
        std::string ts = Get(q, "timeoutSeconds");
        if (!ts.empty()) {
          char* end = nullptr;
          errno = 0;
          timeout = std::strtol(ts.c_str(), &end, 10);
          if (end == ts.c_str() || *end != '\0' || timeout < 0 || errno == ERANGE) return fail(BadRequest("timeoutSeconds: invalid value \"" + ts + "\""));
          if (timeout == 0) timeout = 1800;
          // Accepted as given, but a watch lasts a year at most: larger values (up to LONG_MAX)
          // would overflow the deadline's arithmetic.
          timeout = std::min(timeout, 365L * 24 * 3600);
        }
        std::shared_ptr<const ResourceInfo> info_ptr = rt.info;
        Clock* clock = clock_;
        WatchStream::Encoder enc = [info_ptr, rep, include_obj, clock](const Json& obj, bool first) -> Json {
          if (rep == Representation::kTable) {
            return MakeTable(*info_ptr, {obj}, obj["metadata"].value("resourceVersion", ""), "", clock->Now(), include_obj, first);
          }
          if (rep == Representation::kPartialMetadata) return PartialMetadata(obj);
          return obj;
        };
        r.watch = std::make_shared<WatchStream>(*w, enc, info.kind, gv, Truthy(Get(q, "allowWatchBookmarks")), clock_,
                                                options_.bookmark_interval, std::chrono::seconds(timeout));
        return r;
      }
      ListOptions lo;
      lo.label_selector = Get(q, "labelSelector");
      lo.field_selector = Get(q, "fieldSelector");
      lo.continue_token = Get(q, "continue");
      lo.resource_version = Get(q, "resourceVersion");
      std::string limit = Get(q, "limit");
      if (!limit.empty()) {
        char* end = nullptr;
        lo.limit = std::strtoll(limit.c_str(), &end, 10);
        if (end == limit.c_str() || *end != '\0' || lo.limit < 0) return fail(BadRequest("limit: invalid value \"" + limit + "\""));
      }
      auto list = store_->List(rt.gvr, rt.ns, lo);
      if (!list.ok()) {
        if (list.status().code() == Code::kExpired && !lo.continue_token.empty()) {
          // As upstream: the 410 for an expired continue token offers, in metadata.continue, a
          // token that goes on listing from the current state (an inconsistent continuation).
          HttpResponse r = StatusResponse(list.status());
          Json j = Json::parse(r.body);
          j["metadata"]["continue"] = InconsistentContinueToken(lo.continue_token);
          r.body = j.dump();
          return r;
        }
        return fail(list.status());
      }
      if (rep == Representation::kTable) {
        HttpResponse r = JsonResponse(200, MakeTable(info, list->items, std::to_string(list->resource_version),
                                                     list->continue_token, now, include_obj));
        r.content_type = "application/json;as=Table;v=v1;g=meta.k8s.io";
        return r;
      }
      Json md = {{"resourceVersion", std::to_string(list->resource_version)}};
      if (!list->continue_token.empty()) md["continue"] = list->continue_token;
      if (list->remaining_item_count >= 0) md["remainingItemCount"] = list->remaining_item_count;
      Json items = Json::array();
      if (rep == Representation::kPartialMetadata) {
        for (auto& it : list->items) items.push_back(PartialMetadata(it));
        return JsonResponse(200, {{"kind", "PartialObjectMetadataList"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", md}, {"items", items}});
      }
      for (auto& it : list->items) items.push_back(std::move(it));
      return JsonResponse(200, {{"kind", info.list_kind}, {"apiVersion", gv}, {"metadata", md}, {"items", items}});
    }
    if (m == "POST") {
      if (info.namespaced && !rt.ns_in_path) return StatusResponse(NotFoundPath());
      Json obj;
      Status s = parse_body(&obj);
      if (!s.ok()) return fail(s);
      s = check_kind(&obj);
      if (!s.ok()) return fail(s);
      auto res = store_->Create(rt.gvr, rt.ns, std::move(obj), wo);
      if (!res.ok()) return fail(res.status());
      return with_warnings(JsonResponse(201, *res));
    }
    if (m == "DELETE") {
      ListOptions lo;
      lo.label_selector = Get(q, "labelSelector");
      lo.field_selector = Get(q, "fieldSelector");
      auto list = store_->List(rt.gvr, rt.ns, lo);
      if (!list.ok()) return fail(list.status());
      Json items = Json::array();
      DeleteOptions d;
      d.dry_run = wo.dry_run;
      for (const auto& it : list->items) {
        auto r = store_->Delete(rt.gvr, it["metadata"].value("namespace", ""), it["metadata"].value("name", ""), d);
        if (r.ok()) items.push_back(*r);
      }
      return JsonResponse(200, {{"kind", info.list_kind}, {"apiVersion", gv},
                                {"metadata", {{"resourceVersion", std::to_string(store_->CurrentResourceVersion())}}},
                                {"items", items}});
    }
    return StatusResponse(Err(Code::kInvalidArgument, 405, "MethodNotAllowed",
                              "the server does not allow this method on the requested resource"));
  }

  // ---- one object ----
  if (info.namespaced && !rt.ns_in_path) return StatusResponse(NotFoundPath());
  const std::string& sub = rt.sub;
  bool scale = sub == "scale" && info.scale_subresource;
  if (!sub.empty() && !(sub == "status" && info.status_subresource) && !scale &&
      !(sub == "binding" && info.group.empty() && info.plural == "pods")) {
    return StatusResponse(NotFoundPath());
  }
  auto scale_of = [&](const Json& obj) {
    Json selector = Json();
    std::string sel;
    if (auto v = EvalJsonPath(obj, ".spec.selector.matchLabels"); !v.empty() && v[0]->is_object()) {
      for (auto it = v[0]->begin(); it != v[0]->end(); ++it) {
        sel += (sel.empty() ? "" : ",") + it.key() + "=" + (it->is_string() ? it->get<std::string>() : it->dump());
      }
    }
    Json md = {{"name", obj["metadata"]["name"]}, {"resourceVersion", obj["metadata"]["resourceVersion"]},
               {"uid", obj["metadata"]["uid"]}, {"creationTimestamp", obj["metadata"]["creationTimestamp"]}};
    if (obj["metadata"].contains("namespace")) md["namespace"] = obj["metadata"]["namespace"];
    Json spec_r = obj.contains("spec") && obj["spec"].contains("replicas") ? obj["spec"]["replicas"] : Json(1);
    Json status_r = obj.contains("status") && obj["status"].contains("replicas") ? obj["status"]["replicas"] : Json(0);
    return Json{{"kind", "Scale"}, {"apiVersion", "autoscaling/v1"}, {"metadata", md},
                {"spec", {{"replicas", spec_r}}}, {"status", {{"replicas", status_r}, {"selector", sel}}}};
  };
  if (m == "GET") {
    if (sub == "binding") return StatusResponse(NotFoundPath());
    auto obj = store_->Get(rt.gvr, rt.ns, rt.name);
    if (!obj.ok()) return fail(obj.status());
    if (scale) return JsonResponse(200, scale_of(*obj));
    return JsonResponse(200, present(*obj));
  }
  if (m == "POST") {
    if (sub != "binding") {
      return StatusResponse(Err(Code::kInvalidArgument, 405, "MethodNotAllowed",
                                "the server does not allow this method on the requested resource"));
    }
    Json b;
    Status s = parse_body(&b);
    if (!s.ok()) return fail(s);
    s = check_kind(&b);
    if (!s.ok()) return fail(s);
    std::string node = b.contains("target") && b["target"].is_object() ? b["target"].value("name", "") : "";
    if (node.empty()) return fail(Err(Code::kInvalid, 422, "Invalid", "Binding.core \"" + rt.name + "\" is invalid: target.name: Required value"));
    auto res = store_->BindPod(rt.ns, rt.name, node);
    if (!res.ok()) return fail(res.status());
    return JsonResponse(201, {{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", Json::object()}, {"status", "Success"}, {"code", 201}});
  }
  if (m == "PUT") {
    Json obj;
    Status s = parse_body(&obj);
    if (!s.ok()) return fail(s);
    if (scale) {
      auto cur = store_->Get(rt.gvr, rt.ns, rt.name);
      if (!cur.ok()) return fail(cur.status());
      if (!obj.contains("spec") || !obj["spec"].contains("replicas") || !obj["spec"]["replicas"].is_number_integer()) {
        return fail(Err(Code::kInvalid, 422, "Invalid", "Scale.autoscaling \"" + rt.name + "\" is invalid: spec.replicas: Required value"));
      }
      Json next = *cur;
      next["spec"]["replicas"] = obj["spec"]["replicas"];
      std::string rv = obj.contains("metadata") && obj["metadata"].is_object() ? obj["metadata"].value("resourceVersion", "") : "";
      next["metadata"]["resourceVersion"] = rv;
      auto res = store_->Update(rt.gvr, rt.ns, next, wo);
      if (!res.ok()) return fail(res.status());
      return JsonResponse(200, scale_of(*res));
    }
    s = check_kind(&obj);
    if (!s.ok()) return fail(s);
    std::string body_name = obj.contains("metadata") && obj["metadata"].is_object() ? obj["metadata"].value("name", "") : "";
    if (!body_name.empty() && body_name != rt.name) {
      return fail(BadRequest("the name of the object (" + body_name + ") does not match the name on the URL (" + rt.name + ")"));
    }
    if (!obj.contains("metadata") || !obj["metadata"].is_object()) obj["metadata"] = Json::object();
    obj["metadata"]["name"] = rt.name;
    auto res = sub == "status" ? store_->UpdateStatus(rt.gvr, rt.ns, std::move(obj), wo)
                               : store_->Update(rt.gvr, rt.ns, std::move(obj), wo);
    if (!res.ok()) return fail(res.status());
    return with_warnings(JsonResponse(200, present(*res)));
  }
  if (m == "PATCH") {
    std::string ct = req.Header("Content-Type");
    auto type = PatchTypeFromContentType(ct);
    if (!type) {
      return fail(Err(Code::kUnsupported, 415, "UnsupportedMediaType",
                      "the body of the request was in an unknown format - accepted media types include: "
                      "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml" +
                          std::string(info.builtin ? ", application/strategic-merge-patch+json" : "")));
    }
    if (scale) {
      auto cur = store_->Get(rt.gvr, rt.ns, rt.name);
      if (!cur.ok()) return fail(cur.status());
      Json sc = scale_of(*cur);
      auto pb = ParseJsonOrYaml(req.body);
      if (!pb.ok()) return fail(pb.status());
      Json patched;
      if (*type == PatchType::kJson) {
        Json copy = sc;
        try {
          patched = copy.patch(*pb);
        } catch (const std::exception& e) {
          return fail(Err(Code::kInvalid, 422, "Invalid", e.what()));
        }
      } else {
        patched = sc;
        patched.merge_patch(*pb);
      }
      if (!patched.contains("spec") || !patched["spec"].contains("replicas") || !patched["spec"]["replicas"].is_number_integer()) {
        return fail(Err(Code::kInvalid, 422, "Invalid", "Scale.autoscaling \"" + rt.name + "\" is invalid: spec.replicas: Required value"));
      }
      Json next = *cur;
      next["spec"]["replicas"] = patched["spec"]["replicas"];
      auto res = store_->Update(rt.gvr, rt.ns, next, wo);
      if (!res.ok()) return fail(res.status());
      return JsonResponse(200, scale_of(*res));
    }
    if (req.body.empty()) return fail(BadRequest("the request body is empty"));
    if (*type == PatchType::kApply) wo.field_manager = Get(q, "fieldManager");
    auto res = store_->Patch(rt.gvr, rt.ns, rt.name, *type, req.body, sub, wo);
    if (!res.ok()) return fail(res.status());
    return with_warnings(JsonResponse(created ? 201 : 200, present(*res)));
  }
  if (m == "DELETE") {
    if (!sub.empty()) return StatusResponse(NotFoundPath());
    DeleteOptions d;
    d.dry_run = wo.dry_run;
    std::string prop = Get(q, "propagationPolicy");
    if (!req.body.empty()) {
      Result<Json> b = Json::object();
      if (ToLower(req.Header("Content-Type")).find("protobuf") != std::string::npos) {
        Json opts;
        Status s = decode_protobuf(&opts);
        if (!s.ok()) return fail(s);
        if (opts.value("kind", "") != "DeleteOptions") {
          return fail(BadRequest("the body of a DELETE must be DeleteOptions, not " + opts.value("kind", "")));
        }
        b = std::move(opts);
      } else {
        b = ParseJsonOrYaml(req.body);
      }
      if (!b.ok()) return fail(b.status());
      if (b->is_object()) {
        if (b->contains("propagationPolicy") && (*b)["propagationPolicy"].is_string()) prop = (*b)["propagationPolicy"];
        if (b->contains("orphanDependents") && (*b)["orphanDependents"].is_boolean() && prop.empty()) {
          prop = (*b)["orphanDependents"].get<bool>() ? "Orphan" : "Background";
        }
        if (b->contains("preconditions") && (*b)["preconditions"].is_object()) {
          const Json& pc = (*b)["preconditions"];
          if (pc.contains("uid") && pc["uid"].is_string()) d.precondition_uid = pc["uid"].get<std::string>();
          if (pc.contains("resourceVersion") && pc["resourceVersion"].is_string()) {
            d.precondition_resource_version = pc["resourceVersion"].get<std::string>();
          }
        }
        if (b->contains("dryRun") && (*b)["dryRun"].is_array() && !(*b)["dryRun"].empty()) d.dry_run = true;
      }
    }
    if (prop == "Background") d.propagation = Propagation::kBackground;
    else if (prop == "Foreground") d.propagation = Propagation::kForeground;
    else if (prop == "Orphan") d.propagation = Propagation::kOrphan;
    else if (!prop.empty()) {
      return fail(BadRequest("propagationPolicy: Unsupported value: \"" + prop +
                             "\": supported values: \"Background\", \"Foreground\", \"Orphan\""));
    }
    auto res = store_->Delete(rt.gvr, rt.ns, rt.name, d);
    if (!res.ok()) return fail(res.status());
    return JsonResponse(200, *res);
  }
  return StatusResponse(Err(Code::kInvalidArgument, 405, "MethodNotAllowed",
                            "the server does not allow this method on the requested resource"));
}

}  // namespace prescient::sim

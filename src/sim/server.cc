#include "sim/server.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "common/log.h"

namespace prescient::sim {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

const log::Logger& Log() {
  static const log::Logger l("sim.server");
  return l;
}

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void Close() = 0;
};

// Tracks live sessions so Stop() can close them (watches would otherwise hold threads).
struct Registry {
  std::mutex mu;
  std::set<std::weak_ptr<SessionBase>, std::owner_less<std::weak_ptr<SessionBase>>> sessions;
};

template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Stream stream, ApiHandler* handler, size_t max_body, std::shared_ptr<Registry> reg)
      : stream_(std::move(stream)), handler_(handler), max_body_(max_body), reg_(std::move(reg)),
        timer_(stream_.get_executor()) {}

  void Start() {
    {
      std::lock_guard<std::mutex> l(reg_->mu);
      reg_->sessions.insert(this->shared_from_this());
    }
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->Handshake(); });
  }

  void Close() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->DoClose(); });
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void Handshake() {
    if constexpr (kTls) {
      Lowest().expires_after(std::chrono::seconds(30));
      stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (ec) return self->DoClose();
        self->DoRead();
      });
    } else {
      DoRead();
    }
  }

  void DoRead() {
    parser_.emplace();
    parser_->body_limit(max_body_ + 1);
    parser_->header_limit(1 << 20);
    Lowest().expires_after(std::chrono::minutes(5));
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      HttpResponse r = StatusResponse(Status(Code::kInvalidArgument, "Request entity too large: limit is " +
                                                                         std::to_string(max_body_))
                                          .WithHttp(413, "RequestEntityTooLarge"));
      keep_alive_ = false;
      return Write(std::move(r), 11);
    }
    if (ec) return DoClose();
    auto& req = parser_->get();
    HttpRequest hr;
    hr.method = std::string(req.method_string());
    hr.target = std::string(req.target());
    for (const auto& f : req) hr.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    hr.body = std::move(req.body());
    keep_alive_ = req.keep_alive();
    HttpResponse r = handler_->Handle(hr);
    if (log::GetLevel() == log::Level::kDebug) {
      Log().Debug("request", {{"method", hr.method}, {"target", hr.target}, {"status", r.status}});
    }
    if (r.watch) return StartWatch(std::move(r), req.version());
    Write(std::move(r), req.version());
  }

  void Write(HttpResponse r, unsigned version) {
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), version);
    res->set(http::field::content_type, r.content_type);
    res->set(http::field::cache_control, "no-cache, private");
    for (const auto& [k, v] : r.headers) res->insert(k, v);
    res->keep_alive(keep_alive_);
    res->body() = std::move(r.body);
    res->prepare_payload();
    http::async_write(stream_, *res, [self = this->shared_from_this(), res](beast::error_code ec, size_t) {
      if (ec || !self->keep_alive_) return self->DoClose();
      self->DoRead();
    });
  }

  void StartWatch(HttpResponse r, unsigned version) {
    watch_ = r.watch;
    header_.emplace(http::status::ok, version);
    header_->set(http::field::content_type, r.content_type);
    header_->set(http::field::cache_control, "no-cache, private");
    header_->chunked(true);
    header_->keep_alive(false);
    serializer_.emplace(*header_);
    Lowest().expires_never();
    http::async_write_header(stream_, *serializer_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->DoClose();
      std::weak_ptr<Session> weak = self;
      auto exec = self->stream_.get_executor();
      self->watch_->SetNotify([weak, exec] {
        net::post(exec, [weak] {
          if (auto s = weak.lock()) s->Pump();
        });
      });
      self->Probe();
      self->Pump();
    });
  }

  // A read while streaming: the client sends nothing more, so completion means it went away.
  void Probe() {
    stream_.async_read_some(net::buffer(probe_), [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) {
        if (self->watch_) self->watch_->Cancel();
        return self->DoClose();
      }
      self->Probe();
    });
  }

  void ArmTimer() {
    if (!watch_ || watch_done_) return;
    auto next = std::min(watch_->NextDeadline(), std::chrono::steady_clock::now() + std::chrono::seconds(5));
    timer_.expires_at(next);
    timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->Pump();
    });
  }

  void Pump() {
    if (!watch_ || watch_done_ || closed_) return;
    if (writing_) {
      pending_ = true;
      return;
    }
    std::string data;
    bool more = watch_->Poll(&data);
    if (data.empty()) {
      if (!more) return FinishWatch();
      return ArmTimer();
    }
    writing_ = true;
    chunk_ = std::move(data);
    net::async_write(stream_, http::make_chunk(net::buffer(chunk_)),
                     [self = this->shared_from_this(), more](beast::error_code ec, size_t) {
                       self->writing_ = false;
                       if (ec) {
                         self->watch_->Cancel();
                         return self->DoClose();
                       }
                       if (!more) return self->FinishWatch();
                       self->pending_ = false;
                       self->Pump();
                     });
  }

  void FinishWatch() {
    if (watch_done_) return;
    watch_done_ = true;
    timer_.cancel();
    net::async_write(stream_, http::make_chunk_last(),
                     [self = this->shared_from_this()](beast::error_code, size_t) { self->DoClose(); });
  }

  void DoClose() {
    if (closed_) return;
    closed_ = true;
    if (watch_) watch_->Cancel();
    timer_.cancel();
    beast::error_code ec;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    Lowest().close();
  }

  Stream stream_;
  ApiHandler* handler_;
  size_t max_body_;
  std::shared_ptr<Registry> reg_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool keep_alive_ = true;
  std::shared_ptr<WatchStream> watch_;
  std::optional<http::response<http::empty_body>> header_;
  std::optional<http::response_serializer<http::empty_body>> serializer_;
  std::string chunk_;
  char probe_[64];
  bool writing_ = false;
  bool pending_ = false;
  bool watch_done_ = false;
  bool closed_ = false;
};

class ServerImpl : public ApiServer {
 public:
  ServerImpl(ApiHandler* handler, const ServerOptions& o)
      : handler_(handler), opts_(o), ioc_(o.threads), ssl_ctx_(ssl::context::tls_server), acceptor_(ioc_),
        reg_(std::make_shared<Registry>()) {}

  ~ServerImpl() override { Stop(); }

  Status Init() {
    beast::error_code ec;
    if (opts_.tls) {
      ssl_ctx_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                           ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
      ssl_ctx_.use_certificate_chain(net::buffer(opts_.cert_pem), ec);
      if (ec) return InternalError("TLS certificate: " + ec.message());
      ssl_ctx_.use_private_key(net::buffer(opts_.key_pem), ssl::context::pem, ec);
      if (ec) return InternalError("TLS key: " + ec.message());
    }
    auto addr = net::ip::make_address(opts_.bind_address, ec);
    if (ec) return InvalidArgument("--bind " + opts_.bind_address + ": not an IP address");
    tcp::endpoint ep(addr, static_cast<unsigned short>(opts_.port));
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status(Code::kUnavailable, "cannot listen on " + opts_.bind_address + ":" + std::to_string(opts_.port) +
                                            ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    Accept();
    for (int i = 0; i < std::max(1, opts_.threads); ++i) threads_.emplace_back([this] { ioc_.run(); });
    return Status::Ok();
  }

  int port() const override { return port_; }

  void Stop() override {
    if (stopped_.exchange(true)) return;
    net::post(ioc_, [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    std::vector<std::shared_ptr<SessionBase>> live;
    {
      std::lock_guard<std::mutex> l(reg_->mu);
      for (auto& w : reg_->sessions) {
        if (auto s = w.lock()) live.push_back(s);
      }
    }
    for (auto& s : live) s->Close();
    live.clear();
    // Give sessions a moment to finish their last writes, then stop the loop.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (std::chrono::steady_clock::now() < deadline) {
      bool any = false;
      {
        std::lock_guard<std::mutex> l(reg_->mu);
        for (auto& w : reg_->sessions) any = any || !w.expired();
      }
      if (!any) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ioc_.stop();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  void Accept() {
    acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (!acceptor_.is_open()) return;
      } else {
        socket.set_option(tcp::no_delay(true), ec);
        if (opts_.tls) {
          std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
              beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), ssl_ctx_), handler_,
              opts_.max_body_bytes, reg_)
              ->Start();
        } else {
          std::make_shared<Session<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)), handler_,
                                                       opts_.max_body_bytes, reg_)
              ->Start();
        }
        Prune();
      }
      Accept();
    });
  }

  void Prune() {
    std::lock_guard<std::mutex> l(reg_->mu);
    for (auto it = reg_->sessions.begin(); it != reg_->sessions.end();) {
      if (it->expired()) it = reg_->sessions.erase(it);
      else ++it;
    }
  }

  ApiHandler* handler_;
  ServerOptions opts_;
  net::io_context ioc_;
  ssl::context ssl_ctx_;
  tcp::acceptor acceptor_;
  std::shared_ptr<Registry> reg_;
  std::vector<std::thread> threads_;
  int port_ = 0;
  std::atomic<bool> stopped_{false};
};

}  // namespace

Result<std::unique_ptr<ApiServer>> ApiServer::Start(ApiHandler* handler, const ServerOptions& options) {
  auto s = std::make_unique<ServerImpl>(handler, options);
  Status st = s->Init();
  if (!st.ok()) return st;
  return std::unique_ptr<ApiServer>(std::move(s));
}

}  // namespace prescient::sim

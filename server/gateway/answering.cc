// The coroutines of handle()'s answers, one small frame each (answering.h says why).
#include "answering.h"

#include <spdlog/spdlog.h>

#include "errors.h"
#include "failpoint_handlers.h"
#include "lease_handlers.h"

namespace etcdlab::gateway {

using boost::asio::awaitable;

namespace {

HttpResponse internal_error(const HttpRequest& request, const std::exception& e) {
  spdlog::error("gateway: {} {}: {}", request.method, request.target, e.what());
  return error_response(GatewayError(GrpcCode::kUnknown, e.what()));
}

}  // namespace

// GCC warns, wrongly, that these coroutines' frames are freed by a mismatched operator delete
// (asio's frames bring their own operator new and sized delete: GCC bug 109224).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

awaitable<HttpResponse> answer_now(HttpResponse answer) {
  co_return answer;
}

awaitable<HttpResponse> answer_json(KvService& service, Handler route, HttpRequest request) {
  try {
    json::object body = parse_body(request.body);
    // etcd's gateway passes the header on as the token (the JSON door never uses a TLS CN).
    Credentials who;
    if (!request.authorization.empty()) who.token = std::move(request.authorization);
    co_return co_await route(service, body, who);
  } catch (const GatewayError& e) {
    co_return error_response(e);
  } catch (const std::exception& e) {
    co_return internal_error(request, e);
  }
}

awaitable<HttpResponse> answer_keep_alive(KvService& service, HttpRequest request) {
  try {
    co_return co_await lease_keep_alive(service, std::move(request.body));
  } catch (const GatewayError& e) {
    co_return error_response(e);
  } catch (const std::exception& e) {
    co_return internal_error(request, e);
  }
}

awaitable<HttpResponse> answer_forwarded(KvService& service, HttpRequest request) {
  try {
    co_return co_await service.forward_to_leader(std::move(request));
  } catch (const GatewayError& e) {
    co_return error_response(e);
  }
}

awaitable<HttpResponse> answer_failpoint(KvService& service, HttpRequest request, bool disk) {
  if (disk) co_return co_await disk_failpoints(service, request);
  co_return co_await failpoints(service, request);
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace etcdlab::gateway

#pragma once
// The coroutines handle() (handlers.cc) hands a request to, one per kind of answer. handle()
// itself is a plain function: GCC gives every co_await and co_return of a coroutine its own
// slot in the frame, and one coroutine with a branch per endpoint had a frame of over 1 KB,
// allocated and freed per request: past asio's frame cache (1,020 bytes), and in glibc's
// large-bin sizes, where a malloc first merges the free lists (malloc_consolidate was about 3%
// of a member's time under serializable reads, all of it from that frame). Each of these
// frames holds one branch. Internal to the gateway.

#include "handler_support.h"
#include "http_types.h"

namespace etcdlab::gateway {

// An answer already made (a 404, /health, /version, the view's pages).
boost::asio::awaitable<HttpResponse> answer_now(HttpResponse answer);
// A JSON endpoint: the body parsed, `route` called with the Authorization header as the token,
// its errors answered as etcd answers them.
boost::asio::awaitable<HttpResponse> answer_json(KvService& service, Handler route,
                                                 HttpRequest request);
// /v3/lease/keepalive: a stream whose body is read one request at a time.
boost::asio::awaitable<HttpResponse> answer_keep_alive(KvService& service, HttpRequest request);
// A membership change on a follower: checked against the leader's view of the cluster.
boost::asio::awaitable<HttpResponse> answer_forwarded(KvService& service, HttpRequest request);
// /etcdlab/failpoints (disk false) or /etcdlab/failpoints/disk (true).
boost::asio::awaitable<HttpResponse> answer_failpoint(KvService& service, HttpRequest request,
                                                      bool disk);

}  // namespace etcdlab::gateway

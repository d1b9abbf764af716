// NodeService's auth calls (node_service.h): the node decides on the node thread, as every
// other call; bcrypt runs on the service's own "auth" thread, and the randomness of salts and
// token prefixes is OpenSSL's.
#include <openssl/rand.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <stdexcept>

#include "node_driver.h"
#include "node_service.h"

namespace etcdlab::runtime {

namespace asio = boost::asio;
using server::ApiError;
using server::Completion;
using server::KvNode;

asio::awaitable<server::Result> NodeService::write(server::Request request,
                                                   const server::Credentials& who) {
  Completion c =
      co_await driver_.call([&](KvNode& n) { return n.submit(std::move(request), who); });
  co_return result_of(std::move(c));
}

asio::awaitable<server::Result> NodeService::txn(server::TxnRequest request,
                                                 const server::Credentials& who) {
  Completion c = co_await driver_.call([&](KvNode& n) { return n.txn(std::move(request), who); });
  co_return result_of(std::move(c));
}

std::optional<ApiError> NodeService::authorize(const server::Credentials& who,
                                               KvNode::Access access, const mvcc::KeyRange& keys) {
  return driver_.node().authorize(who, access, keys);
}

void NodeService::watch(uint64_t stream, const watch::WatchRequest& request,
                        const server::Credentials& who) {
  driver_.node().watch(stream, request, who);  // (a refusal is a canceled response)
  driver_.wake_watchers();
}

KvNode::AuthLookup NodeService::auth_lookup(const std::string& name) {
  return driver_.node().auth_lookup(name);
}

void NodeService::auth_failed(const std::string& name) {
  driver_.node().auth_failed(name);
}

server::auth::User NodeService::user_get(const server::Credentials& who, const std::string& name) {
  return driver_.node().user_get(who, name);
}

std::vector<std::string> NodeService::user_list(const server::Credentials& who) {
  return driver_.node().user_list(who);
}

server::auth::Role NodeService::role_get(const server::Credentials& who, const std::string& name) {
  return driver_.node().role_get(who, name);
}

std::vector<std::string> NodeService::role_list(const server::Credentials& who) {
  return driver_.node().role_list(who);
}

asio::awaitable<void> NodeService::run_blocking(std::function<void()>&& work) {
  std::function<void()> mine = std::move(work);
  // On the auth thread; the awaiting coroutine resumes on its own executor (the io thread).
  co_await auth_.run(std::move(mine));
}

asio::awaitable<void> NodeService::pause(std::chrono::milliseconds how_long) {
  asio::steady_timer timer(io_, how_long);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

std::string NodeService::random_bytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    throw std::runtime_error("OpenSSL RAND_bytes failed: no randomness for a salt or a token");
  }
  return out;
}

}  // namespace etcdlab::runtime

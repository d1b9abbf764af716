#pragma once
// The gRPC services of etcd 3.4 (proto/), one factory per service; door.cc registers them.

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/service_type.h>

#include <memory>

#include "calls.h"

namespace etcdlab::grpc_door {

std::unique_ptr<grpc::Service> make_kv_service(Door& door);
std::unique_ptr<grpc::Service> make_lease_service(Door& door);
std::unique_ptr<grpc::Service> make_watch_service(Door& door);
std::unique_ptr<grpc::Service> make_cluster_service(Door& door);
std::unique_ptr<grpc::Service> make_maintenance_service(Door& door);
std::unique_ptr<grpc::Service> make_lock_service(Door& door);
std::unique_ptr<grpc::Service> make_election_service(Door& door);
std::unique_ptr<grpc::Service> make_auth_service(Door& door);

}  // namespace etcdlab::grpc_door

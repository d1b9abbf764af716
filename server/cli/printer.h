#pragma once
// How a command's result is printed: one Printer per -w format, as etcdctl's printers
// (ctlv3/command/printer*.go). A command decodes its response and hands it to the printer; the
// printer writes stdout (and stderr where etcdctl does). A format that cannot show a response
// fails as etcdctl does, after the command has run: "<format> not supported as output format",
// exit 4. That is the default of every method below; each printer overrides what it shows.
//
//   simple   printer_simple.cc    lines (key, value, "OK", comma-separated rows)
//   json     printer_json.cc      the response as Go's encoding/json writes it
//   table    printer_table.cc     tablewriter tables, for the member and endpoint commands
//                                 (no kv, txn or lease command: "table not supported as
//                                 output format")
//   fields   printer_fields.cc    "Name" : value lines
//   protobuf printer_protobuf.cc  the response's protobuf encoding
//
// To print a new response: add a method here (its default fails), then override it in the
// printers that show it.

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "auth_responses.h"
#include "responses.h"
#include "watch_responses.h"

namespace etcdlab::cli {

class Printer {
 public:
  virtual ~Printer() = default;
  // The -w name: "simple", "json", ...
  virtual std::string format() const = 0;

  virtual void get(const RangeResponse& r);
  virtual void put(const PutResponse& r);
  virtual void del(const DeleteRangeResponse& r);
  // "SUCCESS" or "FAILURE", then each response as get, put or del prints it.
  virtual void txn(const TxnResponse& r);
  // etcdctl 3.4 prints "compacted revision N" whatever the format.
  virtual void compact(const CompactionResponse& r, int64_t revision);
  // One watch response (etcdctl's display.Watch; the watch command prints the cancellations
  // and progress notifications around it).
  virtual void watch(const WatchResponse& r);
  virtual void member_list(const MemberListResponse& r);
  virtual void endpoint_status(const std::vector<EndpointStatus>& statuses);
  virtual void endpoint_health(const std::vector<EndpointHealth>& results);
  virtual void member_add(const MemberAddResponse& r);
  virtual void member_remove(uint64_t id, const MemberChangeResponse& r);
  virtual void member_update(uint64_t id, const MemberChangeResponse& r);
  virtual void member_promote(uint64_t id, const MemberChangeResponse& r);
  virtual void alarm(const AlarmResponse& r);
  virtual void db_status(const SnapshotStatus& s);
  virtual void lease_grant(const LeaseGrantResponse& r);
  virtual void lease_revoke(int64_t id, const LeaseRevokeResponse& r);
  virtual void lease_keep_alive(const LeaseKeepAliveResponse& r);
  virtual void lease_time_to_live(const LeaseTimeToLiveResponse& r, bool keys);
  virtual void lease_leases(const LeaseLeasesResponse& r);

  // ---- auth (etcdctl's Role* and User* methods). Those of a response with a header alone
  // print it through auth_header() by default; the simple printer says what was done instead.
  virtual void role_add(const std::string& role, const AuthResponse& r);
  virtual void role_get(const std::string& role, const RoleGetResponse& r);
  virtual void role_delete(const std::string& role, const AuthResponse& r);
  virtual void role_list(const RoleListResponse& r);
  virtual void role_grant_permission(const std::string& role, const AuthResponse& r);
  // `key` as the command line gave it, `end` the range end sent ("" one key, "\0" open ended).
  virtual void role_revoke_permission(const std::string& role, const std::string& key,
                                      const std::string& end, const AuthResponse& r);
  virtual void user_add(const std::string& user, const AuthResponse& r);
  virtual void user_get(const std::string& user, const UserGetResponse& r);
  virtual void user_list(const UserListResponse& r);
  virtual void user_change_password(const AuthResponse& r);
  virtual void user_grant_role(const std::string& user, const std::string& role,
                               const AuthResponse& r);
  virtual void user_revoke_role(const std::string& user, const std::string& role,
                                const AuthResponse& r);
  virtual void user_delete(const std::string& user, const AuthResponse& r);

 protected:
  // A response with a header alone, in this format (json, fields, protobuf); unsupported here.
  virtual void auth_header(const ResponseHeader& h);
  Printer(std::ostream& out, std::ostream& err) : out_(out), err_(err) {}
  // Throws etcdctl's ExitBadFeature error for this format.
  [[noreturn]] void unsupported() const;

  std::ostream& out_;
  std::ostream& err_;
};

// The printer for a -w value, or nullptr for an unknown one (etcdctl: "unsupported output
// format"). `hex` is --hex: the simple printer writes keys and values as \x escapes.
std::unique_ptr<Printer> make_printer(const std::string& format, bool hex, std::ostream& out,
                                      std::ostream& err);

// The simple printer's switch for get --print-value-only (false for other printers).
bool set_value_only(Printer& p);

std::unique_ptr<Printer> make_simple_printer(bool hex, std::ostream& out, std::ostream& err);
std::unique_ptr<Printer> make_json_printer(std::ostream& out, std::ostream& err);
std::unique_ptr<Printer> make_table_printer(std::ostream& out, std::ostream& err);
std::unique_ptr<Printer> make_fields_printer(std::ostream& out, std::ostream& err);
std::unique_ptr<Printer> make_protobuf_printer(std::ostream& out, std::ostream& err);

// The rows the simple and table printers share (etcdctl's make*Table): a header, then one row
// per member or endpoint.
struct Rows {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};
Rows member_list_rows(const MemberListResponse& r);
Rows endpoint_status_rows(const std::vector<EndpointStatus>& statuses);
Rows endpoint_health_rows(const std::vector<EndpointHealth>& results);
Rows db_status_rows(const SnapshotStatus& s);

}  // namespace etcdlab::cli

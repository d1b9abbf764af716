#pragma once
// A check of the store's SQLite file before the member serves from it. SQLite has no page
// checksums: a flipped bit in a page's structure is found only when that page is read, maybe
// much later, maybe as a wrong answer. At start, `PRAGMA quick_check` reads every page's
// structure (b-tree pages, cell pointers, the free list; O(size), about a second per few
// hundred MB) and the member refuses to start on any fault, naming the file and the offset of
// the page. What it cannot see: a flip inside a value that leaves the structure valid (etcd
// finds those by comparing KV hashes between members; so can an operator: endpoint hashkv).

#include <string>

namespace etcdlab::runtime {

// Throws CorruptionError(path, offset of the first bad page, SQLite's words) if the database
// at `path` fails the check; does nothing if there is no file yet.
void check_database_file(const std::string& path);

}  // namespace etcdlab::runtime

#pragma once
// The error types shared by every layer. Each carries what a person needs to act on it.
//
// Unimplemented is deliberately not a StorageError (nor any other error a test may expect): a
// test that expects, say, a CorruptionError must fail when a skeleton throws Unimplemented.

#include <cstdint>
#include <stdexcept>
#include <string>

namespace etcdlab {

// Thrown by every function of a lab skeleton that the student has not written yet. The message
// names the lab, the part and the handout section, e.g.
//   "lab 1, part B: Wal::open is not implemented; see labs/01-log/README.md#part-b".
class Unimplemented : public std::logic_error {
 public:
  Unimplemented(int lab, char part, const std::string& what, const std::string& handout);
  int lab() const { return lab_; }
  char part() const { return part_; }

 private:
  int lab_;
  char part_;
};

// Base of the errors of the storage layers (file system, WAL, snapshots, SQLite).
class StorageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A file-system call failed (open, write, fdatasync, rename...). `path` names the file.
class IoError : public StorageError {
 public:
  IoError(const std::string& op, const std::string& path, const std::string& reason);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Durable data is damaged in a way recovery must not paper over. Names the file and offset.
class CorruptionError : public StorageError {
 public:
  CorruptionError(const std::string& path, uint64_t offset, const std::string& reason);
  const std::string& path() const { return path_; }
  uint64_t offset() const { return offset_; }

 private:
  std::string path_;
  uint64_t offset_;
};

// A log position below the first index still held (it was compacted into a snapshot).
class CompactedError : public StorageError {
 public:
  explicit CompactedError(uint64_t index);
  uint64_t index() const { return index_; }

 private:
  uint64_t index_;
};

// A log position above the last index held.
class UnavailableError : public StorageError {
 public:
  explicit UnavailableError(uint64_t index);
  uint64_t index() const { return index_; }

 private:
  uint64_t index_;
};

// Bytes that do not decode (a peer message, a record payload). `offset` is into the buffer.
class DecodeError : public std::runtime_error {
 public:
  DecodeError(const std::string& what, uint64_t offset);
  uint64_t offset() const { return offset_; }

 private:
  uint64_t offset_;
};

}  // namespace etcdlab

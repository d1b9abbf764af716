// Lab 1, part D: snapshot files, written in chunks and made durable by rename.
// snapshot_file.h gives the format and the order of the steps.
#include "etcdlab/log/snapshot_file.h"

#include "etcdlab/codec.h"
#include "etcdlab/crc32c.h"
#include "etcdlab/errors.h"
#include "todo.h"

namespace etcdlab {

std::string snapshot_file_name(const SnapshotMeta& /*meta*/) {
  todo('D', "snapshot_file_name");
}

// Your state goes here (the file system, paths, the open .tmp file, the running checksum...).
struct SnapshotFileWriter::Impl {};

SnapshotFileWriter::SnapshotFileWriter(FileSystem& /*fs*/, const std::string& /*dir*/,
                                       const SnapshotMeta& /*meta*/) {
  todo('D', "SnapshotFileWriter::SnapshotFileWriter");
}
SnapshotFileWriter::~SnapshotFileWriter() = default;

void SnapshotFileWriter::write(std::string_view /*chunk*/) {
  todo('D', "SnapshotFileWriter::write");
}

void SnapshotFileWriter::commit() {
  todo('D', "SnapshotFileWriter::commit");
}

const std::string& SnapshotFileWriter::path() const {
  todo('D', "SnapshotFileWriter::path");
}

struct SnapshotFileReader::Impl {};

SnapshotFileReader::SnapshotFileReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SnapshotFileReader::~SnapshotFileReader() = default;

std::unique_ptr<SnapshotFileReader> SnapshotFileReader::open(FileSystem& /*fs*/,
                                                             const std::string& /*path*/) {
  todo('D', "SnapshotFileReader::open");
}

const SnapshotMeta& SnapshotFileReader::meta() const {
  todo('D', "SnapshotFileReader::meta");
}
uint64_t SnapshotFileReader::size() const {
  todo('D', "SnapshotFileReader::size");
}

std::string SnapshotFileReader::read(uint64_t /*offset*/, uint64_t /*max_bytes*/) const {
  todo('D', "SnapshotFileReader::read");
}

}  // namespace etcdlab

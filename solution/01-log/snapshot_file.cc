// Reference implementation of lab 1, part D: snapshot files (format in snapshot_file.h).
#include "etcdlab/log/snapshot_file.h"

#include <fmt/format.h>

#include "etcdlab/broken.h"
#include "etcdlab/codec.h"
#include "etcdlab/crc32c.h"
#include "etcdlab/errors.h"

namespace etcdlab {
namespace {

constexpr uint64_t kHeaderBytes = 24;   // magic, version, meta length
constexpr uint64_t kTrailerBytes = 16;  // payload length, crc, trailer magic
constexpr uint64_t kVerifyChunk = 1 << 20;

uint64_t load(std::string_view b, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v |= static_cast<uint64_t>(static_cast<uint8_t>(b[at + i])) << (8 * i);
  }
  return v;
}

}  // namespace

std::string snapshot_file_name(const SnapshotMeta& meta) {
  return fmt::format("{:016x}-{:016x}.snap", meta.term, meta.index);
}

struct SnapshotFileWriter::Impl {
  FileSystem& fs;
  std::string dir;
  std::string path;
  std::string tmp;
  std::unique_ptr<File> file;
  uint32_t crc = 0;
  uint64_t payload_bytes = 0;
  bool committed = false;
};

SnapshotFileWriter::SnapshotFileWriter(FileSystem& fs, const std::string& dir,
                                       const SnapshotMeta& meta)
    : impl_(new Impl{fs, dir, join_path(dir, snapshot_file_name(meta)), "", nullptr}) {
  impl_->tmp = impl_->path + ".tmp";
  if (fs.exists(impl_->tmp)) fs.remove(impl_->tmp);  // left by an earlier crash
  impl_->file = fs.create(impl_->tmp);
  std::string meta_bytes = encode_value(meta);
  std::string header(kSnapshotMagic);
  Writer w(header);
  w.fixed32(kSnapshotFormatVersion);
  w.fixed32(static_cast<uint32_t>(meta_bytes.size()));
  header += meta_bytes;
  impl_->crc = crc32c(std::string_view(header).substr(kSnapshotMagic.size()));
  if (ETCDLAB_BROKEN("snapshot-crc-from-byte-zero")) impl_->crc = crc32c(header);
  impl_->file->append(header);
}

SnapshotFileWriter::~SnapshotFileWriter() {
  if (impl_->committed) return;
  if (ETCDLAB_BROKEN("writer-destructor-throws")) {  // the bug: an IoError here terminates
    impl_->file.reset();
    impl_->fs.remove(impl_->tmp);
    return;
  }
  try {
    impl_->file.reset();
    impl_->fs.remove(impl_->tmp);
  } catch (...) {  // best effort: open() removes leftover .tmp files anyway
  }
}

void SnapshotFileWriter::write(std::string_view chunk) {
  impl_->file->append(chunk);
  impl_->crc = crc32c(chunk, impl_->crc);
  impl_->payload_bytes += chunk.size();
}

void SnapshotFileWriter::commit() {
  std::string trailer;
  Writer w(trailer);
  w.fixed64(impl_->payload_bytes);
  if (ETCDLAB_BROKEN("snapshot-crc-covers-trailer")) impl_->crc = crc32c(trailer, impl_->crc);
  w.fixed32(impl_->crc);
  trailer += kSnapshotTrailerMagic;
  impl_->file->append(trailer);
  if (ETCDLAB_BROKEN("rename-before-sync")) {  // the bug: the name can point at lost bytes
    impl_->fs.rename(impl_->tmp, impl_->path);
    impl_->fs.sync_dir(impl_->dir);
    impl_->file->sync();
    impl_->file.reset();
    impl_->committed = true;
    return;
  }
  impl_->file->sync();
  impl_->file.reset();
  impl_->fs.rename(impl_->tmp, impl_->path);
  impl_->fs.sync_dir(impl_->dir);
  impl_->committed = true;
}

const std::string& SnapshotFileWriter::path() const {
  return impl_->path;
}

struct SnapshotFileReader::Impl {
  std::unique_ptr<File> file;
  SnapshotMeta meta;
  uint64_t payload_offset = 0;
  uint64_t payload_bytes = 0;
};

SnapshotFileReader::SnapshotFileReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SnapshotFileReader::~SnapshotFileReader() = default;

std::unique_ptr<SnapshotFileReader> SnapshotFileReader::open(FileSystem& fs,
                                                             const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->file = fs.open(path);
  const File& f = *impl->file;
  uint64_t size = f.size();
  auto corrupt = [&](uint64_t at, const std::string& why) {
    return CorruptionError(path, at, why);
  };
  if (size < kHeaderBytes + kTrailerBytes) throw corrupt(size, "snapshot file too short");
  if (ETCDLAB_BROKEN("snapshot-read-whole-file")) {
    std::string whole = f.read_at(0, size);  // the bug: gigabytes in one string
  }
  std::string header = f.read_at(0, kHeaderBytes);
  if (std::string_view(header).substr(0, kSnapshotMagic.size()) != kSnapshotMagic) {
    throw corrupt(0, "not a snapshot file (bad magic)");
  }
  uint64_t version = load(header, 16, 4);
  if (version != kSnapshotFormatVersion) {
    throw corrupt(16, fmt::format("unsupported snapshot format version {} (this build reads {})",
                                  version, kSnapshotFormatVersion));
  }
  uint64_t meta_bytes = load(header, 20, 4);
  if (meta_bytes > size - kHeaderBytes - kTrailerBytes) throw corrupt(20, "meta length too large");
  std::string trailer = f.read_at(size - kTrailerBytes, kTrailerBytes);
  if (std::string_view(trailer).substr(12) != kSnapshotTrailerMagic) {
    throw corrupt(size - 4, "bad trailer magic (the file is cut short or damaged)");
  }
  impl->payload_offset = kHeaderBytes + meta_bytes;
  impl->payload_bytes = load(trailer, 0, 8);
  if (impl->payload_offset + impl->payload_bytes + kTrailerBytes != size &&
      !ETCDLAB_BROKEN("payload-length-unchecked")) {
    throw corrupt(size - kTrailerBytes, "payload length does not match the file size");
  }
  uint32_t crc = 0;
  uint64_t crc_from = 16, crc_to = size - kTrailerBytes;  // the checksum covers [16, crc_to)
  if (ETCDLAB_BROKEN("snapshot-crc-from-byte-zero")) crc_from = 0;
  if (ETCDLAB_BROKEN("snapshot-crc-covers-trailer")) crc_to += 8;
  for (uint64_t at = crc_from; at < crc_to; at += kVerifyChunk) {
    crc = crc32c(f.read_at(at, std::min(kVerifyChunk, crc_to - at)), crc);
  }
  if (crc != load(trailer, 8, 4)) throw corrupt(size - 12, "snapshot checksum mismatch");
  try {
    impl->meta = decode_value<SnapshotMeta>(f.read_at(kHeaderBytes, meta_bytes), "snapshot meta");
  } catch (const DecodeError& e) {
    throw corrupt(kHeaderBytes, e.what());
  }
  return std::unique_ptr<SnapshotFileReader>(new SnapshotFileReader(std::move(impl)));
}

const SnapshotMeta& SnapshotFileReader::meta() const {
  return impl_->meta;
}
uint64_t SnapshotFileReader::size() const {
  return impl_->payload_bytes;
}

std::string SnapshotFileReader::read(uint64_t offset, uint64_t max_bytes) const {
  if (offset >= impl_->payload_bytes) return {};
  return impl_->file->read_at(impl_->payload_offset + offset,
                              std::min(max_bytes, impl_->payload_bytes - offset));
}

}  // namespace etcdlab

// Reference implementation of lab 1, part C: the WAL (see wal.h for the format and the
// recovery rules).
#include "etcdlab/log/wal.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <optional>

#include "etcdlab/broken.h"
#include "etcdlab/codec.h"
#include "etcdlab/errors.h"
#include "etcdlab/log/record.h"
#include "log_shape.h"

namespace etcdlab {
namespace {

struct SegmentName {
  uint64_t sequence = 0;
  uint64_t first_index = 0;
  std::string name;
};

std::optional<SegmentName> parse_segment_name(const std::string& name) {
  // <16 hex>-<16 hex>.wal
  if (name.size() != 16 + 1 + 16 + 4 || name[16] != '-' || !name.ends_with(".wal")) {
    return std::nullopt;
  }
  auto hex = [](std::string_view s, uint64_t& out) {
    out = 0;
    for (char c : s) {
      int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
      if (d < 0) return false;
      out = out * 16 + static_cast<uint64_t>(d);
    }
    return true;
  };
  SegmentName s;
  s.name = name;
  if (!hex(std::string_view(name).substr(0, 16), s.sequence) ||
      !hex(std::string_view(name).substr(17, 16), s.first_index)) {
    return std::nullopt;
  }
  return s;
}

std::string encode_segment_header(uint64_t sequence, uint64_t first_index) {
  std::string out;
  Writer w(out);
  w.bytes(kWalMagic);
  w.u64(kWalFormatVersion);
  w.u64(sequence);
  w.u64(first_index);
  return out;
}

// A snapshot record: the marker, and whether the snapshot replaced the log (the writer knows
// the terms of its entries; replay, which may start after released segments, does not).
std::string encode_mark(const SnapshotMark& mark, bool replaced_log) {
  std::string out;
  Writer w(out);
  w.u64(mark.index);
  w.u64(mark.term);
  w.boolean(replaced_log);
  return out;
}

}  // namespace

std::string wal_segment_name(uint64_t sequence, uint64_t first_index) {
  return fmt::format("{:016x}-{:016x}.wal", sequence, first_index);
}

struct Wal::Impl {
  Impl(FileSystem& f, std::string d, WalOptions o) : fs(f), dir(std::move(d)), options(o) {}

  FileSystem& fs;
  std::string dir;
  WalOptions options;
  WalContents contents;  // what replay found (kept for replayed())
  std::vector<SegmentName> segments;
  std::unique_ptr<File> file;          // the last segment, open for appending
  uint64_t offset = 0;                 // where the next record goes in `file`
  uint64_t header_end = 0;             // where the last segment's header record(s) end: a segment
                                       // holding nothing more is never rotated
  LogShape shape;                      // the log as the records written so far describe it
  HardState hard_state;                // latest written (repeated at the start of each new segment)
  std::optional<std::string> failure;  // set by a failed write or sync: the WAL is poisoned

  std::string path(const std::string& name) const { return join_path(dir, name); }

  // ---- replay
  void replay();
  void replay_segment(size_t k);
  void apply(const SegmentName& seg, uint64_t at, const RecordRead& rec, bool first_record,
             bool first_segment);
  void repair_tail(const std::string& p, uint64_t at, uint64_t size, const std::string& why);

  // ---- appending
  void check_usable() const {
    if (failure) throw IoError("write", dir, "WAL unusable after an earlier failure: " + *failure);
  }
  template <typename Fn>
  void guard(Fn&& fn) {
    check_usable();
    try {
      fn();
    } catch (const IoError& e) {
      failure = e.what();
      throw;
    }
  }
  std::string header_block(uint64_t sequence, uint64_t first_index) const;
  void create_segment(uint64_t sequence, uint64_t first_index);
  void write(const std::string& records);
  void rotate();
};

std::string Wal::Impl::header_block(uint64_t sequence, uint64_t first_index) const {
  std::string out;
  append_record(out, RecordType::kSegmentHeader, encode_segment_header(sequence, first_index));
  append_record(out, RecordType::kHardState, encode_value(hard_state));
  return out;
}

// Creates a segment under a temporary name and renames it into place once it is whole and
// durable, so a crash never leaves a half-made segment under a real name.
void Wal::Impl::create_segment(uint64_t sequence, uint64_t first_index) {
  std::string name = wal_segment_name(sequence, first_index);
  std::string tmp = path(name) + ".tmp";
  std::string block = header_block(sequence, first_index);
  {
    auto f = fs.create(tmp);
    if (options.preallocate) {
      f->preallocate(std::max<uint64_t>(options.segment_bytes, block.size()));
    }
    f->write_at(0, block);
    f->sync();
  }
  fs.rename(tmp, path(name));
  fs.sync_dir(dir);
  file = fs.open(path(name));
  offset = header_end = block.size();
  segments.push_back({sequence, first_index, name});
}

void Wal::Impl::rotate() {
  // Everything in the current segment becomes durable and the file ends at its last record,
  // so that only the last segment can ever have a tail to repair.
  if (ETCDLAB_BROKEN("rotate-without-sync")) {  // the bug: the old segment's tail is not durable
    file->truncate(offset);
    create_segment(segments.back().sequence + 1, shape.last() + 1);
    return;
  }
  file->sync();
  if (!ETCDLAB_BROKEN("rotate-without-trim")) file->truncate(offset);
  file->sync();
  create_segment(segments.back().sequence + 1, shape.last() + 1);
}

void Wal::Impl::write(const std::string& records) {
  guard([&] {
    if (offset > header_end && offset + records.size() > options.segment_bytes) rotate();
    if (ETCDLAB_BROKEN("append-after-zero-tail")) {
      file->append(records);  // the bug: after the preallocated zeros, where replay never looks
      offset += records.size();
      return;
    }
    file->write_at(offset, records);
    offset += records.size();
  });
}

void Wal::Impl::repair_tail(const std::string& p, uint64_t at, uint64_t size,
                            const std::string& why) {
  spdlog::warn("wal: cutting {} bytes from {} at offset {} ({}); they were never synced", size - at,
               p, at, why);
  auto f = fs.open(p);
  f->truncate(at);
  if (options.preallocate) f->preallocate(options.segment_bytes);
  if (!ETCDLAB_BROKEN("cut-without-sync")) f->sync();
  contents.repaired_bytes += size - at;
}

void Wal::Impl::apply(const SegmentName& seg, uint64_t at, const RecordRead& rec, bool first_record,
                      bool first_segment) {
  std::string p = path(seg.name);
  auto corrupt = [&](const std::string& why) { return CorruptionError(p, at, why); };
  if (first_record != (rec.type == RecordType::kSegmentHeader)) {
    throw corrupt(first_record ? "segment does not start with a segment header"
                               : "segment header in the middle of a segment");
  }
  try {
    switch (rec.type) {
      case RecordType::kSegmentHeader: {
        Reader r(rec.payload);
        if (r.bytes_view("magic") != kWalMagic) throw corrupt("not a WAL segment (bad magic)");
        uint64_t version = r.u64("version");
        if (version != kWalFormatVersion) {
          throw corrupt(fmt::format("unsupported WAL format version {} (this build reads {})",
                                    version, kWalFormatVersion));
        }
        uint64_t sequence = r.u64("sequence");
        uint64_t first_index = r.u64("first index");
        r.expect_done("segment header");
        if ((sequence != seg.sequence || first_index != seg.first_index) &&
            !ETCDLAB_BROKEN("header-name-unchecked")) {
          throw corrupt("segment header does not match the file name");
        }
        if (first_segment) {
          shape = LogShape(first_index - 1);
          contents.base_index = first_index - 1;
        } else if (first_index > shape.last() + 1) {
          // (It may start lower: after a release, replay's base can sit above indexes the
          // writer had already overwritten or replaced.)
          throw corrupt(fmt::format("segment starts at index {} but the log before it ends at {}",
                                    first_index, shape.last()));
        }
        break;
      }
      case RecordType::kEntry: {
        Entry e = decode_value<Entry>(rec.payload, "entry record");
        if (e.index > shape.last() + 1) {
          throw corrupt(fmt::format("index gap: entry {} follows entry {}", e.index, shape.last()));
        }
        // An entry replaces every entry from its index on, even one at or below the base:
        // the overwrite happened before the snapshot that moved the base past it.
        auto& entries = contents.entries;
        while (!ETCDLAB_BROKEN("overwrite-keeps-old-suffix") && !entries.empty() &&
               entries.back().index >= e.index) {
          entries.pop_back();
        }
        shape.append(e.index, e.term);
        if (e.index > shape.base() || ETCDLAB_BROKEN("keep-entry-below-base")) {
          entries.push_back(std::move(e));
        }
        break;
      }
      case RecordType::kHardState:
        hard_state = decode_value<HardState>(rec.payload, "hard state record");
        contents.hard_state = hard_state;
        break;
      case RecordType::kSnapshot: {
        Reader r(rec.payload);
        SnapshotMark mark{r.u64("index"), r.u64("term")};
        bool replaced_log = r.boolean("replaced log");
        r.expect_done("snapshot record");
        contents.snapshots.push_back(mark);
        auto& entries = contents.entries;
        uint64_t old_base = shape.base();
        shape.snapshot(mark.index, replaced_log);
        if (replaced_log) {
          entries.clear();
        } else if (mark.index > old_base) {
          uint64_t drop = std::min<uint64_t>(mark.index - old_base, entries.size());
          entries.erase(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(drop));
        }
        contents.base_index = shape.base();
        break;
      }
    }
  } catch (const DecodeError& e) {
    throw corrupt(std::string("undecodable record: ") + e.what());
  }
}

void Wal::Impl::replay_segment(size_t k) {
  const SegmentName& seg = segments[k];
  bool last = k + 1 == segments.size();
  std::string p = path(seg.name);
  auto f = fs.open(p);
  uint64_t size = f->size();
  std::string data = f->read_at(0, size);
  uint64_t at = 0;
  int records = 0;  // read so far in this segment
  for (;;) {
    RecordRead rec = read_record(data, at);
    if (rec.status == RecordRead::Status::kOk) {
      apply(seg, at, rec, records == 0, k == 0);
      // The header records: the segment header and the hard state written with it (as in
      // create_segment). A segment holding nothing more is never rotated.
      if (last && records < 2) header_end = rec.next_offset;
      records++;
      at = rec.next_offset;
      continue;
    }
    if (records == 0) throw CorruptionError(p, at, "segment has no header record: " + rec.problem);
    if (rec.status == RecordRead::Status::kCorrupt && !ETCDLAB_BROKEN("repair-corrupt-record")) {
      throw CorruptionError(p, at, rec.problem);
    }
    bool clean_end =
        rec.status == RecordRead::Status::kEnd && all_zero(std::string_view(data).substr(at));
    if (ETCDLAB_BROKEN("zero-tail-in-older-segment-accepted") && clean_end) break;
    if (!last && !ETCDLAB_BROKEN("repair-older-segment")) {
      if (rec.status == RecordRead::Status::kEnd && at == size) break;
      throw CorruptionError(p, at,
                            rec.status == RecordRead::Status::kTorn
                                ? "torn record in a segment that is not the last: " + rec.problem
                                : "unexpected end of records in a segment that is not the last");
    }
    if (!clean_end) {
      repair_tail(p, at, size,
                  rec.status == RecordRead::Status::kTorn ? rec.problem
                                                          : "data after a zero record header");
    }
    break;
  }
  if (last) offset = ETCDLAB_BROKEN("log-end-at-file-size") ? size : at;
}

void Wal::Impl::replay() {
  std::vector<std::string> names = fs.list(dir);
  for (const auto& name : names) {
    if (name.ends_with(".wal.tmp")) {  // a segment whose creation a crash interrupted
      fs.remove(path(name));
      continue;
    }
    if (!name.ends_with(".wal")) continue;
    auto seg = parse_segment_name(name);
    if (!seg) throw CorruptionError(path(name), 0, "not a valid WAL segment name");
    if (!segments.empty() && seg->sequence != segments.back().sequence + 1 &&
        !ETCDLAB_BROKEN("sequence-gap-unchecked")) {
      throw CorruptionError(path(name), 0,
                            fmt::format("segment sequence {} follows {}: a segment is missing",
                                        seg->sequence, segments.back().sequence));
    }
    segments.push_back(*seg);
  }
  fs.sync_dir(dir);  // the removals above (a .tmp that came back would only be removed again)
  if (segments.empty()) {
    create_segment(1, 1);
    return;
  }
  for (size_t k = 0; k < segments.size(); ++k) replay_segment(k);
  file = fs.open(path(segments.back().name));
}

Wal::Wal(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Wal::~Wal() = default;

std::unique_ptr<Wal> Wal::open(FileSystem& fs, const std::string& dir, const WalOptions& options) {
  auto impl = std::make_unique<Impl>(fs, dir, options);
  fs.create_dirs(dir);
  impl->replay();
  return std::unique_ptr<Wal>(new Wal(std::move(impl)));
}

const WalContents& Wal::replayed() const {
  return impl_->contents;
}

void Wal::append_entries(std::span<const Entry> entries) {
  if (entries.empty()) return;
  auto& s = impl_->shape;
  if (entries.front().index <= s.base() || entries.front().index > s.last() + 1) {
    throw std::invalid_argument(fmt::format("WAL append at index {} but the log is ({}, {}]",
                                            entries.front().index, s.base(), s.last()));
  }
  // Checked before anything is written: a gap that reached the disk would stop every replay.
  for (size_t i = 1; i < entries.size(); ++i) {
    if (entries[i].index != entries[i - 1].index + 1) {
      throw std::invalid_argument(fmt::format("WAL append: entry {} follows entry {}",
                                              entries[i].index, entries[i - 1].index));
    }
  }
  std::string records, payload;
  for (const Entry& e : entries) {
    payload.clear();
    Writer w(payload);
    w.u64(kCodecVersion);
    encode(w, e);
    append_record(records, RecordType::kEntry, payload);
  }
  impl_->write(records);
  for (const Entry& e : entries) s.append(e.index, e.term);
}

void Wal::append_hard_state(const HardState& state) {
  std::string records;
  append_record(records, RecordType::kHardState, encode_value(state));
  impl_->write(records);
  impl_->hard_state = state;
}

void Wal::append_snapshot(const SnapshotMark& mark) {
  auto& s = impl_->shape;
  bool replaced_log = mark.index > s.base() && !s.matches(mark.index, mark.term);
  std::string records;
  append_record(records, RecordType::kSnapshot, encode_mark(mark, replaced_log));
  impl_->write(records);
  s.snapshot(mark.index, replaced_log);
}

void Wal::sync() {
  impl_->guard([&] { impl_->file->sync(); });
}

void Wal::release_before(uint64_t index) {
  if (ETCDLAB_BROKEN("release-after-failed-sync")) impl_->failure.reset();  // the bug: forgotten
  impl_->guard([&] {
    auto& segs = impl_->segments;
    size_t removable = 0;
    while (removable + 1 < segs.size() && segs[removable + 1].first_index <= index) removable++;
    if (removable == 0) return;
    for (size_t k = 0; k < removable; ++k) {
      size_t which = ETCDLAB_BROKEN("release-newest-first") ? removable - 1 - k : k;
      impl_->fs.remove(impl_->path(segs[which].name));
    }
    impl_->fs.sync_dir(impl_->dir);
    segs.erase(segs.begin(), segs.begin() + static_cast<std::ptrdiff_t>(removable));
  });
}

std::vector<std::string> Wal::segments() const {
  std::vector<std::string> names;
  for (const auto& s : impl_->segments) names.push_back(s.name);
  return names;
}

}  // namespace etcdlab

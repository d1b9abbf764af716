#include "etcdlab/errors.h"

namespace etcdlab {

Unimplemented::Unimplemented(int lab, char part, const std::string& what,
                             const std::string& handout)
    : std::logic_error("lab " + std::to_string(lab) + ", part " + std::string(1, part) + ": " +
                       what + " is not implemented; see " + handout),
      lab_(lab),
      part_(part) {}

IoError::IoError(const std::string& op, const std::string& path, const std::string& reason)
    : StorageError(op + " " + path + ": " + reason), path_(path) {}

CorruptionError::CorruptionError(const std::string& path, uint64_t offset,
                                 const std::string& reason)
    : StorageError(path + " at offset " + std::to_string(offset) + ": " + reason),
      path_(path),
      offset_(offset) {}

CompactedError::CompactedError(uint64_t index)
    : StorageError("log index " + std::to_string(index) + " has been compacted"), index_(index) {}

UnavailableError::UnavailableError(uint64_t index)
    : StorageError("log index " + std::to_string(index) + " is past the end of the log"),
      index_(index) {}

DecodeError::DecodeError(const std::string& what, uint64_t offset)
    : std::runtime_error(what + " (at byte " + std::to_string(offset) + ")"), offset_(offset) {}

}  // namespace etcdlab

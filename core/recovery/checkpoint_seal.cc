// Sealing and opening the encrypted checkpoint (checkpoint_seal.h).
#include "core/recovery/checkpoint_seal.h"

#include <cstring>

#include "core/crypto/nonce.h"
#include "core/util/coding.h"

namespace firkin {
namespace {
constexpr char kMagic[8] = {'F', 'I', 'R', 'K', 'C', 'K', 'P', 'E'};
constexpr uint32_t kVersion = 1;
constexpr size_t kNonceAt = 24;
}  // namespace

Status SealCheckpoint(const Aead& aead, uint64_t db_id, std::string_view plain,
                      std::string* out) {
  out->assign(kSealedCheckpointOverhead + plain.size(), '\0');
  char* h = &(*out)[0];
  std::memcpy(h, kMagic, 8);
  EncodeU32(h + 8, kVersion);
  EncodeU64(h + 16, db_id);
  uint8_t nonce[Aead::kNonceSize];
  FIRKIN_RETURN_IF_ERROR(RandomNonce(nonce));
  std::memcpy(h + kNonceAt, nonce, sizeof nonce);
  aead.Seal(nonce, std::string_view(h, kSealedCheckpointHeaderSize), plain.data(), plain.size(),
            h + kSealedCheckpointHeaderSize);
  return Status::OK();
}

Status OpenSealedCheckpoint(const Aead& aead, std::string_view file, const std::string& path,
                            uint64_t db_id, std::string* plain) {
  if (file.size() < kSealedCheckpointOverhead || std::memcmp(file.data(), kMagic, 8) != 0) {
    return Status::Corruption(path + ": not an encrypted checkpoint (bad magic or size) at "
                              "offset 0");
  }
  const char* h = file.data();
  if (DecodeU32(h + 8) > kVersion) {
    return Status::Version(path + ": encrypted checkpoint version is newer than this library "
                           "supports");
  }
  if (DecodeU32(h + 8) != kVersion || DecodeU32(h + 12) != 0 || DecodeU32(h + 36) != 0) {
    return Status::Corruption(path + ": bad encrypted checkpoint header at offset 8");
  }
  if (DecodeU64(h + 16) != db_id) {
    return Status::Corruption(path + ": checkpoint of another database");
  }
  uint8_t nonce[Aead::kNonceSize];
  std::memcpy(nonce, h + kNonceAt, sizeof nonce);
  const size_t n = file.size() - kSealedCheckpointHeaderSize;
  plain->assign(n - Aead::kTagSize, '\0');
  if (!aead.Open(nonce, std::string_view(h, kSealedCheckpointHeaderSize),
                 h + kSealedCheckpointHeaderSize, n, plain->empty() ? nullptr : &(*plain)[0])) {
    plain->clear();
    return Status::Corruption(path + ": encrypted checkpoint fails authentication (damaged, or "
                              "not written with this database's key)");
  }
  return Status::OK();
}

}  // namespace firkin

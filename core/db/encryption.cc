// DB: the key side of encryption at rest: the KEYS file at open and at
// creation, and offline rekeying (docs/format.md, "Encryption").
#include <openssl/crypto.h>

#include <cstring>

#include "core/crypto/key_file.h"
#include "core/crypto/nonce.h"
#include "core/db/db.h"

namespace firkin {
namespace {

// Writes `data` to dir/name atomically: temp file, fdatasync, rename,
// directory fsync.
Status WriteFileAtomic(Env* env, const std::string& dir, const std::string& name,
                       const std::string& data) {
  const std::string final_path = dir + "/" + name;
  const std::string tmp = final_path + ".tmp";
  std::unique_ptr<WritableFile> f;
  FIRKIN_RETURN_IF_ERROR(env->NewWritableFile(tmp, &f));
  Status s = f->Append(data);
  if (s.ok()) s = f->Sync();
  Status c = f->Close();
  if (s.ok()) s = c;
  if (s.ok()) s = env->RenameFile(tmp, final_path);
  if (s.ok()) s = env->SyncDir(dir);
  if (!s.ok()) env->RemoveFile(tmp);
  return s;
}

Status ReadKeyFile(Env* env, const std::string& dir, std::string* data) {
  const std::string path = dir + "/" + kKeyFileName;
  bool d = false;
  uint64_t size = 0;
  Status s = env->Stat(path, &d, &size);
  if (s.IsNotFound()) {
    return Status::Corruption(path + " is missing: the database is encrypted and its data key "
                              "is in that file (restore it from a backup)");
  }
  FIRKIN_RETURN_IF_ERROR(s);
  if (d || size != kKeyFileSize) {
    return Status::Corruption(path + ": not a key file (" +
                              (d ? std::string("a directory") : std::to_string(size) + " bytes") +
                              "; a key file is a regular file of " + std::to_string(kKeyFileSize) +
                              " bytes)");
  }
  return env->ReadFile(path, data);
}

// The data key of the database in dir, unwrapped with src.
Status UnwrapDek(Env* env, const std::string& dir, const Identity& id, const KeySource& src,
                 uint8_t dek[32]) {
  std::string data;
  FIRKIN_RETURN_IF_ERROR(ReadKeyFile(env, dir, &data));
  const std::string path = dir + "/" + kKeyFileName;
  KeyFileData kf;
  FIRKIN_RETURN_IF_ERROR(DecodeKeyFileHeader(data, path, &kf));
  if (kf.db_id != id.db_id) {
    return Status::Corruption(path + ": key file of another database");
  }
  if (kf.kind != src.kind) {
    return Status::BadKey(path + ": the database is encrypted with a " +
                          (kf.kind == KdfKind::kRaw ? "raw 32-byte key" : "passphrase") +
                          ", and a " +
                          (src.kind == KdfKind::kRaw ? "raw key" : "passphrase") + " was given");
  }
  uint8_t kek[32];
  Status s = DeriveKek(src, kf, kek);
  if (s.ok()) s = UnwrapKeyFile(data, path, kek, dek);
  OPENSSL_cleanse(kek, sizeof kek);
  return s;
}

// A new key file for db_id wrapping dek under src (fresh KDF salt).
Status NewKeyFile(const KeySource& src, uint64_t db_id, const uint8_t dek[32], std::string* out) {
  KeyFileData kf;
  kf.kind = src.kind;
  kf.db_id = db_id;
  if (src.kind == KdfKind::kArgon2id) {
    kf.params = src.params;
    FIRKIN_RETURN_IF_ERROR(kf.params.Validate());
    FIRKIN_RETURN_IF_ERROR(RandomBytes(kf.salt, sizeof kf.salt));
  } else {
    kf.params = KdfParams{0, 0, 0};
  }
  uint8_t kek[32];
  Status s = DeriveKek(src, kf, kek);
  if (s.ok()) s = EncodeKeyFile(kf, kek, dek, out);
  OPENSSL_cleanse(kek, sizeof kek);
  return s;
}

Status MakeCipher(const uint8_t dek[32], std::shared_ptr<const Aead>* out) {
  std::unique_ptr<Aead> a = Aead::Create(dek);
  if (a == nullptr) {
    // (Out of memory in libcrypto: until 2026-11-29's review an INTERNAL
    // error, and a restore's verification that met it said CORRUPTION.)
    return Status::NoMemory("libcrypto cannot set up AES-256-GCM (out of memory)");
  }
  *out = std::move(a);
  return Status::OK();
}

}  // namespace

Status DB::CheckKeys() {
  const bool keyed = !options_.encryption.empty();
  if (!identity_.encrypted()) {
    if (keyed) {
      return Status::BadKey(path_ + " is not encrypted, and a key or passphrase was given "
                            "(an existing database cannot be encrypted in place: dump it into "
                            "a new encrypted one); nothing was changed");
    }
    return Status::OK();
  }
  if (!keyed) {
    return Status::BadKey(path_ + " is encrypted: open it with an encryption key or a "
                          "passphrase (firkin_options_set_encryption_key / "
                          "firkin_options_set_passphrase)");
  }
  uint8_t dek[32];
  Status s = UnwrapDek(env_, path_, identity_, options_.encryption, dek);
  if (s.ok()) s = MakeCipher(dek, &options_.cipher);
  OPENSSL_cleanse(dek, sizeof dek);
  return s;
}

void DB::RepairKeys() {
  std::string data;
  if (!ReadKeyFile(env_, path_, &data).ok() || KeyFileDamagedCopy(data) == 0) return;
  // The two copies are the same bytes: the intact one, twice (no key needed).
  if (WriteFileAtomic(env_, path_, kKeyFileName, KeyFileFromIntactCopy(data)).ok()) {
    keys_repaired_++;
  }
}

std::string DB::KeysProblem() const {
  if (!identity_.encrypted()) return "";
  std::string data;
  if (!ReadKeyFile(env_, path_, &data).ok()) return "";  // the open read it: gone since
  const int c = KeyFileDamagedCopy(data);
  if (c == 0) return "";
  return path_ + "/" + kKeyFileName + ": copy " + std::to_string(c) +
         " of 2 of the wrapped data key is damaged; the other is intact (a writable open "
         "writes it over the damaged one)";
}

Status DB::CreateKeys() {
  if (options_.encryption.empty()) {
    env_->RemoveFile(path_ + "/" + kKeyFileName);  // a leftover of a creation cut short
    return Status::OK();
  }
  identity_.features |= kIdentityEncrypted;
  uint8_t dek[32];
  Status s = RandomBytes(dek, sizeof dek);
  std::string file;
  if (s.ok()) s = NewKeyFile(options_.encryption, identity_.db_id, dek, &file);
  // KEYS goes first: FIRKIN, written next, is what says the database exists
  // and is encrypted; a crash in between leaves KEYS beside no FIRKIN, which
  // the next creation overwrites.
  if (s.ok()) s = WriteFileAtomic(env_, path_, kKeyFileName, file);
  if (s.ok()) s = MakeCipher(dek, &options_.cipher);
  OPENSSL_cleanse(dek, sizeof dek);
  return s;
}

Status DB::Rekey(const std::string& path, const Options& old_opts, const Options& new_opts) {
  if (path.empty()) return Status::InvalidArgument("database path is empty");
  if (old_opts.encryption.empty()) {
    return Status::InvalidArgument("rekey: the old options hold no key or passphrase");
  }
  if (new_opts.encryption.empty()) {
    return Status::InvalidArgument("rekey: the new options hold no key or passphrase (removing "
                                   "encryption in place is not offered: dump into a new "
                                   "database)");
  }
  Env* env = old_opts.env != nullptr ? old_opts.env : Env::Default();
  std::string dir = path;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  const std::string ipath = dir + "/" + kIdentityFileName;
  bool d = false;
  uint64_t isize = 0;
  Status s = env->Stat(ipath, &d, &isize);
  if (s.IsNotFound()) return Status::NotADatabase(dir + " holds no Firkin database");
  FIRKIN_RETURN_IF_ERROR(s);
  if (d || isize > 4096) return Status::NotADatabase(ipath + " is not a Firkin identity file");
  std::string data;
  FIRKIN_RETURN_IF_ERROR(env->ReadFile(ipath, &data));
  Identity id;
  FIRKIN_RETURN_IF_ERROR(DecodeIdentity(data, ipath, &id));
  if (!id.encrypted()) {
    return Status::BadKey(dir + " is not encrypted: there is no key to change (encrypting an "
                          "existing database in place is not offered: dump it into a new "
                          "encrypted one)");
  }
  // Offline: the writer lock, held until KEYS is replaced. (Read-only
  // handles may stay open: they unwrapped the data key at their open, and
  // the data key does not change.)
  std::unique_ptr<FileLock> lock;
  FIRKIN_RETURN_IF_ERROR(env->LockFile(dir + "/" + kLockFileName, true, &lock));
  uint8_t dek[32];
  s = UnwrapDek(env, dir, id, old_opts.encryption, dek);
  std::string file;
  if (s.ok()) s = NewKeyFile(new_opts.encryption, id.db_id, dek, &file);
  OPENSSL_cleanse(dek, sizeof dek);
  if (s.ok()) s = WriteFileAtomic(env, dir, kKeyFileName, file);
  return s;
}

}  // namespace firkin

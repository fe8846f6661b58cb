// Encryption at rest (issue 12): the key options and firkin_rekey.
#include <cstring>

#include "capi/internal.h"
#include "core/db/db.h"

using namespace firkin::capi;

extern "C" {

FIRKIN_API firkin_status firkin_options_set_encryption_key(firkin_options* opts, const void* key,
                                                           size_t key_len) {
  return Guard([&] {
    if (opts == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "options handle is NULL");
    if (key == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "encryption key is NULL");
    return Done(opts->opts.SetEncryptionKey(
        std::string_view(static_cast<const char*>(key), key_len)));
  });
}

FIRKIN_API firkin_status firkin_options_set_passphrase(firkin_options* opts,
                                                       const char* passphrase) {
  return Guard([&] {
    if (opts == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "options handle is NULL");
    if (passphrase == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "passphrase is NULL");
    return Done(opts->opts.SetPassphrase(std::string_view(passphrase, std::strlen(passphrase))));
  });
}

FIRKIN_API firkin_status firkin_rekey(const char* path, const firkin_options* old_opts,
                                      const firkin_options* new_opts) {
  return Guard([&] {
    if (path == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "database path is NULL");
    if (old_opts == nullptr || new_opts == nullptr) {
      return Fail(FIRKIN_E_INVALID_ARGUMENT, "rekey needs the old and the new options");
    }
    return Done(firkin::DB::Rekey(path, old_opts->opts, new_opts->opts));
  });
}

}  // extern "C"

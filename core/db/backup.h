// Online backup (firkin_backup, firkin_restore): the settings of one backup
// and what it did. The work is DB::Backup (backup.cc).
//
// A backup is a directory that opens as exactly the database's state at one
// sequence number S, taken while writers keep writing:
//
//  * The cut. With segment retirement held (CompactionHost::retire_mutex:
//    no compaction output is published and no input removed meanwhile) and
//    the writer gate closed (no write in flight, so every reservation handed
//    out so far is published), S is the published sequence number, the
//    segment list is taken, and the active segment's published length B is
//    a record boundary below which every record has a sequence number <= S
//    and at or past which every later record will lie.
//  * Sealed segments and compaction outputs are immutable: hard-linked into
//    the destination (under a temporary name, then renamed), or copied when
//    linking is refused (another file system) or disabled. The newest log
//    segment (the "tail", the one a writable open of the copy may cut) is
//    always copied, up to B, with its durability watermark set to B: the
//    copy is a sealed segment. Copies are read from the segments' mappings,
//    which the backup pins, so compaction may retire a segment once it is
//    listed and linked.
//  * The identity file is written right after the BACKUP-INCOMPLETE marker,
//    the checkpoint (optional) is copied as it is (open validates it against
//    the copied segments and ignores it when it does not match).
//  * Everything is fsynced, files of an earlier backup that the new one
//    does not hold are removed, the copy is verified (opened read-only,
//    every record and index entry checked), the BACKUP mark is written
//    (the database id, S, every segment file and its size) and only then
//    is the marker removed (and the directory fsynced). A crash at any
//    point leaves the marker, and open refuses a directory that holds it.
//  * The destination is accepted only when missing, empty, the start of a
//    backup cut short (the marker, and at most this database's identity),
//    or a complete backup of this database (its BACKUP mark) holding
//    exactly the segment files the mark lists: never a database (live,
//    restored, or a backup opened for writing since).
//  * Incremental: a segment file already there is kept only when it is the
//    source's own file (a hard link: same inode) or equal to the copy byte
//    for byte (compared in full).
//
// Thread contract: plain values.
#ifndef FIRKIN_CORE_DB_BACKUP_H_
#define FIRKIN_CORE_DB_BACKUP_H_

#include <cstdint>
#include <functional>
#include <string>

namespace firkin {

struct BackupOptions {
  // Into an existing backup of the same database: keep the segment files
  // that are already there with the same content (false: copy all again).
  bool incremental = true;
  // Open the finished copy read-only and verify it before marking it
  // complete.
  bool verify = true;
  // Hard-link immutable segments when the destination is on the same file
  // system (false: always copy).
  bool hard_links = true;
  // Copy the source's index checkpoint too (open of the copy is then fast
  // when it still matches).
  bool checkpoint = true;
  // Restore (firkin_restore): the destination must be missing or empty
  // (kExists otherwise); the copy gets a database id of its own (segment
  // headers, identity, key file; its checkpoint is written anew) and no
  // BACKUP mark: it is a database of its own, never taken for a backup of
  // the source, nor the source for a backup of it.
  bool restore = false;
  // Called with (bytes done, bytes in all) as the backup goes; may be empty.
  std::function<void(uint64_t, uint64_t)> progress;
};

struct BackupReport {
  uint64_t seq = 0;           // the snapshot the backup holds
  uint64_t segments = 0;      // segment files in the backup
  uint64_t linked = 0;        // hard-linked from the source
  uint64_t copied = 0;        // copied
  uint64_t kept = 0;          // already in the backup (incremental)
  uint64_t removed = 0;       // files of an earlier backup removed
  uint64_t bytes_linked = 0;
  uint64_t bytes_copied = 0;
  uint64_t bytes_kept = 0;
  bool checkpoint = false;    // a checkpoint was copied
  bool verified = false;

  std::string ToJson() const;
};

}  // namespace firkin

#endif  // FIRKIN_CORE_DB_BACKUP_H_

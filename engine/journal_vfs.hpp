// A fault-injecting SQLite VFS for the journal's tests (FAULTS.md scenarios 6 power_loss_journal
// and 24 journal_write_failure). It lives in its own library (swaprouter_journal_faults) that only
// tests link; nothing registers it unless a test calls fault_vfs::install, and the engine opens
// its journal with SQLite's default VFS.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine/result.hpp"

namespace swaprouter {

/// What an injected write or sync failure reports to SQLite.
enum class io_fault : std::uint8_t {
  io_error,   ///< SQLITE_IOERR_WRITE (writes), SQLITE_IOERR_FSYNC (syncs)
  disk_full,  ///< SQLITE_FULL
};

/// Which of the writes made since a file's last sync survive a simulated power loss.
enum class power_loss_mode : std::uint8_t {
  drop_unsynced,  ///< none: every file is as of its last successful sync
  keep_prefix,    ///< a random prefix, in order: a disk that writes in order
  keep_subset,    ///< a random subset, some torn at a 512-byte boundary: a reordering disk
};

/// A VFS wrapping SQLite's default one. Writes, truncations and syncs of databases, journals and
/// WAL files go through it: it can fail the next N of them, stop the "machine" after a given
/// number of them (every later one fails, as if the process was killed there), and then simulate
/// the power loss: it remembers every write and truncation since each file's last successful sync
/// and, once every file is closed, rewrites the files as the loss leaves them. Reads, locks and
/// shared memory pass through. Syncs are simulated (no fsync) unless `real_sync`, which keeps the
/// tests fast; durability is what this class models. Not for concurrent use from several threads.
class fault_vfs {
 public:
  /// Registers a VFS called `name` (not as the default). The object must outlive every connection
  /// opened with it; its destructor unregisters it.
  static result<std::unique_ptr<fault_vfs>> install(const std::string& name,
                                                    bool real_sync = false);
  ~fault_vfs();
  fault_vfs(const fault_vfs&) = delete;
  fault_vfs& operator=(const fault_vfs&) = delete;

  /// The name to pass as journal_options::vfs.
  const std::string& name() const;

  /// The next `count` writes (or syncs) fail with `fault` and change nothing.
  void fail_writes(int count, io_fault fault);
  void fail_syncs(int count, io_fault fault);

  /// After `operations` more writes, truncations and syncs, every later one (and every delete)
  /// fails: the process is dead from that point on, though SQLite still runs until closed.
  void kill_after(std::uint64_t operations);
  bool killed() const;
  /// Writes, truncations and syncs performed so far (to choose kill points).
  std::uint64_t operations() const;

  /// The power loss and the reboot: every file opened through this VFS must be closed. Keeps what
  /// `mode` (with `seed`) lets survive of each file's unsynced writes, forgets them, and revives
  /// the VFS (no kill, no pending failures). An error when a file is still open or cannot be
  /// rewritten.
  result<void> power_cycle(power_loss_mode mode, std::uint64_t seed);

  struct state;

 private:
  explicit fault_vfs(std::unique_ptr<state> s);
  std::unique_ptr<state> state_;
};

}  // namespace swaprouter

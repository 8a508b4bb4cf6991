// The fault-injecting VFS of engine/journal_vfs.hpp. Power loss is modelled by undo and redo:
// each write or truncation since a file's last sync is kept with the bytes it replaced, so the
// synced state can be rebuilt exactly (undo all, newest first) and any chosen part of the lost
// writes replayed on top (redo, oldest first).
#include "engine/journal_vfs.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <random>
#include <string_view>
#include <vector>

namespace swaprouter {

namespace {

struct pending_op {
  bool truncate = false;
  sqlite3_int64 offset = 0;    // write: where it starts; truncate: the new size
  sqlite3_int64 old_size = 0;  // the file's size before
  std::string old_bytes;       // write: what it overwrote inside old_size; truncate: the cut tail
  std::string new_bytes;       // write only
};

struct file_state {
  std::vector<pending_op> pending;
  int open_handles = 0;
};

}  // namespace

struct fault_vfs::state {
  sqlite3_vfs vfs{};
  sqlite3_vfs* base = nullptr;
  std::string name;
  bool real_sync = false;
  bool registered = false;
  // std::map: open files keep pointers to their entry.
  std::map<std::string, file_state> files;
  int fail_writes = 0;
  io_fault write_fault = io_fault::io_error;
  int fail_syncs = 0;
  io_fault sync_fault = io_fault::io_error;
  std::optional<std::uint64_t> kill_at;
  std::uint64_t operations = 0;
  bool dead = false;

  // Counts one mutating operation; false when the machine is (now) dead.
  bool alive_for_one_more() {
    if (dead) return false;
    if (kill_at && operations >= *kill_at) {
      dead = true;
      return false;
    }
    ++operations;
    return true;
  }
};

namespace {

using vfs_state = fault_vfs::state;

struct fault_file {
  sqlite3_file base;  // first: SQLite sees a fault_file as a sqlite3_file
  vfs_state* owner;
  file_state* tracked;  // null for temporary files, which need no durability
};

constexpr std::size_t real_offset = (sizeof(fault_file) + 15) & ~std::size_t{15};

sqlite3_file* real(sqlite3_file* f) {
  return reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + real_offset);
}
fault_file* as_fault(sqlite3_file* f) { return reinterpret_cast<fault_file*>(f); }
vfs_state* owner_of(sqlite3_vfs* v) { return static_cast<vfs_state*>(v->pAppData); }

int write_code(io_fault f) { return f == io_fault::disk_full ? SQLITE_FULL : SQLITE_IOERR_WRITE; }
int sync_code(io_fault f) { return f == io_fault::disk_full ? SQLITE_FULL : SQLITE_IOERR_FSYNC; }

// The current size of the underlying file, or -1.
sqlite3_int64 size_of(sqlite3_file* r) {
  sqlite3_int64 size = 0;
  return r->pMethods->xFileSize(r, &size) == SQLITE_OK ? size : -1;
}

// The bytes [offset, offset + n) that exist in a file of `size` bytes.
std::string read_existing(sqlite3_file* r, sqlite3_int64 size, sqlite3_int64 offset,
                          sqlite3_int64 n) {
  const sqlite3_int64 have = std::max<sqlite3_int64>(0, std::min(n, size - offset));
  std::string out(static_cast<std::size_t>(have), '\0');
  if (have > 0) r->pMethods->xRead(r, out.data(), static_cast<int>(have), offset);
  return out;
}

int x_close(sqlite3_file* f) {
  fault_file* ff = as_fault(f);
  const int rc = real(f)->pMethods->xClose(real(f));
  if (ff->tracked != nullptr) --ff->tracked->open_handles;
  return rc;
}

int x_read(sqlite3_file* f, void* buf, int amount, sqlite3_int64 offset) {
  return real(f)->pMethods->xRead(real(f), buf, amount, offset);
}

int x_write(sqlite3_file* f, const void* buf, int amount, sqlite3_int64 offset) {
  fault_file* ff = as_fault(f);
  sqlite3_file* r = real(f);
  if (ff->tracked == nullptr) return r->pMethods->xWrite(r, buf, amount, offset);
  vfs_state* s = ff->owner;
  if (s->dead) return SQLITE_IOERR_WRITE;
  if (s->fail_writes > 0) {
    --s->fail_writes;
    return write_code(s->write_fault);
  }
  if (!s->alive_for_one_more()) return SQLITE_IOERR_WRITE;
  pending_op op;
  op.offset = offset;
  op.old_size = size_of(r);
  if (op.old_size < 0) return SQLITE_IOERR_FSTAT;
  op.old_bytes = read_existing(r, op.old_size, offset, amount);
  op.new_bytes.assign(static_cast<const char*>(buf), static_cast<std::size_t>(amount));
  const int rc = r->pMethods->xWrite(r, buf, amount, offset);
  if (rc == SQLITE_OK) ff->tracked->pending.push_back(std::move(op));
  return rc;
}

int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
  fault_file* ff = as_fault(f);
  sqlite3_file* r = real(f);
  if (ff->tracked == nullptr) return r->pMethods->xTruncate(r, size);
  vfs_state* s = ff->owner;
  if (!s->alive_for_one_more()) return SQLITE_IOERR_TRUNCATE;
  pending_op op;
  op.truncate = true;
  op.offset = size;
  op.old_size = size_of(r);
  if (op.old_size < 0) return SQLITE_IOERR_FSTAT;
  op.old_bytes = read_existing(r, op.old_size, size, op.old_size - size);
  const int rc = r->pMethods->xTruncate(r, size);
  if (rc == SQLITE_OK) ff->tracked->pending.push_back(std::move(op));
  return rc;
}

int x_sync(sqlite3_file* f, int flags) {
  fault_file* ff = as_fault(f);
  sqlite3_file* r = real(f);
  if (ff->tracked == nullptr) return r->pMethods->xSync(r, flags);
  vfs_state* s = ff->owner;
  if (s->dead) return SQLITE_IOERR_FSYNC;
  if (s->fail_syncs > 0) {
    --s->fail_syncs;
    return sync_code(s->sync_fault);
  }
  if (!s->alive_for_one_more()) return SQLITE_IOERR_FSYNC;
  const int rc = s->real_sync ? r->pMethods->xSync(r, flags) : SQLITE_OK;
  if (rc == SQLITE_OK) ff->tracked->pending.clear();
  return rc;
}

int x_file_size(sqlite3_file* f, sqlite3_int64* size) {
  return real(f)->pMethods->xFileSize(real(f), size);
}
int x_lock(sqlite3_file* f, int level) { return real(f)->pMethods->xLock(real(f), level); }
int x_unlock(sqlite3_file* f, int level) { return real(f)->pMethods->xUnlock(real(f), level); }
int x_check_reserved_lock(sqlite3_file* f, int* out) {
  return real(f)->pMethods->xCheckReservedLock(real(f), out);
}
int x_file_control(sqlite3_file* f, int op, void* arg) {
  // A size hint may grow the file outside xWrite and xTruncate, where no undo record is kept; it
  // is only a hint, so it is dropped.
  if (op == SQLITE_FCNTL_SIZE_HINT) return SQLITE_OK;
  return real(f)->pMethods->xFileControl(real(f), op, arg);
}
int x_sector_size(sqlite3_file* f) { return real(f)->pMethods->xSectorSize(real(f)); }
int x_device_characteristics(sqlite3_file* f) {
  return real(f)->pMethods->xDeviceCharacteristics(real(f));
}
int x_shm_map(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  return real(f)->pMethods->xShmMap(real(f), region, size, extend, out);
}
int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return real(f)->pMethods->xShmLock(real(f), offset, n, flags);
}
void x_shm_barrier(sqlite3_file* f) { real(f)->pMethods->xShmBarrier(real(f)); }
int x_shm_unmap(sqlite3_file* f, int delete_flag) {
  return real(f)->pMethods->xShmUnmap(real(f), delete_flag);
}

// Version 2: shared memory (WAL) but no memory-mapped I/O, so every write goes through x_write.
const sqlite3_io_methods io_methods = {
    2,
    x_close,
    x_read,
    x_write,
    x_truncate,
    x_sync,
    x_file_size,
    x_lock,
    x_unlock,
    x_check_reserved_lock,
    x_file_control,
    x_sector_size,
    x_device_characteristics,
    x_shm_map,
    x_shm_lock,
    x_shm_barrier,
    x_shm_unmap,
    nullptr,
    nullptr,
};

int x_open(sqlite3_vfs* v, const char* name, sqlite3_file* f, int flags, int* out_flags) {
  vfs_state* s = owner_of(v);
  fault_file* ff = as_fault(f);
  ff->base.pMethods = nullptr;
  ff->owner = s;
  ff->tracked = nullptr;
  const bool durable =
      name != nullptr &&
      (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_MAIN_JOURNAL | SQLITE_OPEN_WAL)) != 0;
  if (durable && s->dead) return SQLITE_CANTOPEN;
  sqlite3_file* r = real(f);
  r->pMethods = nullptr;
  const int rc = s->base->xOpen(s->base, name, r, flags, out_flags);
  if (rc != SQLITE_OK) {
    if (r->pMethods != nullptr) r->pMethods->xClose(r);
    return rc;
  }
  if (durable) {
    ff->tracked = &s->files[std::string(name)];
    ++ff->tracked->open_handles;
  }
  ff->base.pMethods = &io_methods;
  return SQLITE_OK;
}

int x_delete(sqlite3_vfs* v, const char* name, int sync_dir) {
  vfs_state* s = owner_of(v);
  if (s->dead) return SQLITE_IOERR_DELETE;
  const int rc = s->base->xDelete(s->base, name, sync_dir);
  // Deletion is taken as durable: what was written to the file no longer matters.
  if (rc == SQLITE_OK) {
    if (auto it = s->files.find(name); it != s->files.end()) it->second.pending.clear();
  }
  return rc;
}

int x_access(sqlite3_vfs* v, const char* name, int flags, int* out) {
  return owner_of(v)->base->xAccess(owner_of(v)->base, name, flags, out);
}
int x_full_pathname(sqlite3_vfs* v, const char* name, int n, char* out) {
  return owner_of(v)->base->xFullPathname(owner_of(v)->base, name, n, out);
}
void* x_dl_open(sqlite3_vfs* v, const char* name) {
  return owner_of(v)->base->xDlOpen(owner_of(v)->base, name);
}
void x_dl_error(sqlite3_vfs* v, int n, char* out) {
  owner_of(v)->base->xDlError(owner_of(v)->base, n, out);
}
using dl_symbol = void (*)();
dl_symbol x_dl_sym(sqlite3_vfs* v, void* handle, const char* symbol) {
  return owner_of(v)->base->xDlSym(owner_of(v)->base, handle, symbol);
}
void x_dl_close(sqlite3_vfs* v, void* handle) {
  owner_of(v)->base->xDlClose(owner_of(v)->base, handle);
}
int x_randomness(sqlite3_vfs* v, int n, char* out) {
  return owner_of(v)->base->xRandomness(owner_of(v)->base, n, out);
}
int x_sleep(sqlite3_vfs* v, int micros) {
  return owner_of(v)->base->xSleep(owner_of(v)->base, micros);
}
int x_current_time(sqlite3_vfs* v, double* out) {
  return owner_of(v)->base->xCurrentTime(owner_of(v)->base, out);
}
int x_get_last_error(sqlite3_vfs* v, int n, char* out) {
  return owner_of(v)->base->xGetLastError(owner_of(v)->base, n, out);
}
int x_current_time_int64(sqlite3_vfs* v, sqlite3_int64* out) {
  return owner_of(v)->base->xCurrentTimeInt64(owner_of(v)->base, out);
}

// POSIX access to a closed file for the power cycle.
class raw_file {
 public:
  explicit raw_file(const std::string& path) : fd_(::open(path.c_str(), O_RDWR | O_CLOEXEC)) {}
  ~raw_file() {
    if (fd_ >= 0) ::close(fd_);
  }
  raw_file(const raw_file&) = delete;
  raw_file& operator=(const raw_file&) = delete;

  bool ok() const { return fd_ >= 0; }
  bool write(sqlite3_int64 offset, std::string_view bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done,
                                 static_cast<off_t>(offset) + static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  }
  bool truncate(sqlite3_int64 size) { return ::ftruncate(fd_, static_cast<off_t>(size)) == 0; }

 private:
  int fd_;
};

}  // namespace

result<std::unique_ptr<fault_vfs>> fault_vfs::install(const std::string& name, bool real_sync) {
  sqlite3_vfs* base = sqlite3_vfs_find(nullptr);
  if (base == nullptr) return fail(error_kind::internal, "sqlite has no default VFS");
  if (base->iVersion < 2) return fail(error_kind::internal, "the default VFS is too old");
  if (sqlite3_vfs_find(name.c_str()) != nullptr) {
    return fail(error_kind::internal, fmt::format("a VFS called {} already exists", name));
  }
  auto s = std::make_unique<state>();
  s->base = base;
  s->name = name;
  s->real_sync = real_sync;
  sqlite3_vfs& v = s->vfs;
  v.iVersion = 2;
  v.szOsFile = static_cast<int>(real_offset) + base->szOsFile;
  v.mxPathname = base->mxPathname;
  v.zName = s->name.c_str();
  v.pAppData = s.get();
  v.xOpen = x_open;
  v.xDelete = x_delete;
  v.xAccess = x_access;
  v.xFullPathname = x_full_pathname;
  v.xDlOpen = x_dl_open;
  v.xDlError = x_dl_error;
  v.xDlSym = x_dl_sym;
  v.xDlClose = x_dl_close;
  v.xRandomness = x_randomness;
  v.xSleep = x_sleep;
  v.xCurrentTime = x_current_time;
  v.xGetLastError = x_get_last_error;
  v.xCurrentTimeInt64 = x_current_time_int64;
  const int rc = sqlite3_vfs_register(&v, 0);
  if (rc != SQLITE_OK) {
    return fail(error_kind::internal,
                fmt::format("registering VFS {}: {}", name, sqlite3_errstr(rc)));
  }
  s->registered = true;
  return std::unique_ptr<fault_vfs>(new fault_vfs(std::move(s)));
}

fault_vfs::fault_vfs(std::unique_ptr<state> s) : state_(std::move(s)) {}

fault_vfs::~fault_vfs() {
  if (state_->registered) sqlite3_vfs_unregister(&state_->vfs);
}

const std::string& fault_vfs::name() const { return state_->name; }

void fault_vfs::fail_writes(int count, io_fault fault) {
  state_->fail_writes = count;
  state_->write_fault = fault;
}

void fault_vfs::fail_syncs(int count, io_fault fault) {
  state_->fail_syncs = count;
  state_->sync_fault = fault;
}

void fault_vfs::kill_after(std::uint64_t operations) {
  state_->kill_at = state_->operations + operations;
}

bool fault_vfs::killed() const { return state_->dead; }

std::uint64_t fault_vfs::operations() const { return state_->operations; }

result<void> fault_vfs::power_cycle(power_loss_mode mode, std::uint64_t seed) {
  for (const auto& [path, file] : state_->files) {
    if (file.open_handles != 0) {
      return fail(error_kind::internal, fmt::format("power_cycle: {} is still open ({} handles)",
                                                    path, file.open_handles));
    }
  }
  std::mt19937_64 rng(seed);
  for (auto& [path, file] : state_->files) {
    if (file.pending.empty()) continue;
    raw_file f(path);
    if (!f.ok()) {
      return fail(error_kind::internal,
                  fmt::format("power_cycle: cannot open {}: {}", path, std::strerror(errno)));
    }
    bool ok = true;
    // Undo, newest first: each step restores the file as it was before that operation.
    for (auto it = file.pending.rbegin(); it != file.pending.rend(); ++it) {
      const sqlite3_int64 at = it->truncate ? std::min(it->offset, it->old_size) : it->offset;
      ok = ok && f.write(at, it->old_bytes) && f.truncate(it->old_size);
    }
    // Redo what the chosen mode lets survive, oldest first.
    const std::size_t n = file.pending.size();
    const std::size_t prefix = mode == power_loss_mode::keep_prefix ? rng() % (n + 1) : 0;
    for (std::size_t i = 0; i < n; ++i) {
      const pending_op& op = file.pending[i];
      bool kept = false;
      std::size_t keep_bytes = op.new_bytes.size();
      if (mode == power_loss_mode::keep_prefix) {
        kept = i < prefix;
      } else if (mode == power_loss_mode::keep_subset) {
        kept = rng() % 2 == 0;
        // A torn write: only its first sectors reached the disk.
        if (kept && !op.truncate && rng() % 4 == 0) {
          keep_bytes = std::min<std::size_t>(keep_bytes, (rng() % 16) * 512);
          kept = keep_bytes > 0;
        }
      }
      if (!kept) continue;
      ok = ok &&
           (op.truncate ? f.truncate(op.offset)
                        : f.write(op.offset, std::string_view(op.new_bytes).substr(0, keep_bytes)));
    }
    if (!ok) {
      return fail(error_kind::internal,
                  fmt::format("power_cycle: rewriting {}: {}", path, std::strerror(errno)));
    }
    file.pending.clear();
  }
  state_->dead = false;
  state_->kill_at.reset();
  state_->fail_writes = 0;
  state_->fail_syncs = 0;
  return {};
}

}  // namespace swaprouter

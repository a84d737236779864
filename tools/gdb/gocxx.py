# gdb extension for gocxx programs: goroutines as a debugger sees them.
#
#   info goroutines          every live goroutine: id, state, wait reason, creation site
#   goroutine N [CMD]        runs CMD (default: bt) with goroutine N's stack as the current one
#   goroutine all [CMD]      the same for every live goroutine
#
# Works on a live process and on a core file: a parked goroutine's stack is reached through a
# gdb.unwinder that makes the saved registers of that goroutine the caller of the thread's
# innermost frame; no register is ever written. A running goroutine is shown on the thread
# that runs it. Reads the runtime through its debug info (a RelWithDebInfo or Debug build) or,
# without it (-O2 without -g, stripped programs, their core files), through the layout table
# the runtime embeds (src/runtime/layout.cpp); then frames are named from the symbol table.
#
# Loading: programs linked with gocxx embed this script in their .debug_gdb_scripts section;
# gdb runs it once the program is in its `auto-load safe-path`
# (`gdb -iex 'add-auto-load-safe-path /path/to/prog' /path/to/prog`). Or load it by hand:
# `source tools/gdb/gocxx.py` (installed as share/gocxx/gdb/gocxx.py). Loading it twice is
# harmless. See docs/diagnostics.md, "gdb extension".

import re
import struct

import gdb
import gdb.unwinder
from gdb.FrameDecorator import FrameDecorator

# GStatus (src/runtime/goroutine.hpp).
_STATUS_NAMES = {0: "idle", 1: "runnable", 2: "running", 3: "syscall", 4: "waiting", 6: "dead"}
_IDLE, _RUNNING, _SYSCALL, _WAITING, _DEAD = 0, 2, 3, 4, 6
_SCAN_BIT = 0x1000

# WaitReason enumerator -> Go's string (registry.cpp's wait_reason_string). Looked up by
# enumerator name, so a reordered enum still reads right; tests/gdb_test.sh checks every
# enumerator against the program's own strings.
WAIT_REASONS = {
    "kZero": "",
    "kChanSend": "chan send",
    "kChanReceive": "chan receive",
    "kChanSendNilChan": "chan send (nil chan)",
    "kChanReceiveNilChan": "chan receive (nil chan)",
    "kSelect": "select",
    "kSelectNoCases": "select (no cases)",
    "kSleep": "sleep",
    "kSyncMutexLock": "sync.Mutex.Lock",
    "kSyncRWMutexRLock": "sync.RWMutex.RLock",
    "kSyncRWMutexLock": "sync.RWMutex.Lock",
    "kSyncWaitGroupWait": "sync.WaitGroup.Wait",
    "kSyncCondWait": "sync.Cond.Wait",
    "kSemacquire": "semacquire",
    "kForever": "forever",
    "kIOWait": "IO wait",
}

# Frames of the runtime itself, skipped when naming the function that called go(): the same
# rules as is_runtime_frame in src/diag/stacktrace.cpp (function prefixes; code located in
# the public headers that wrap the runtime).
_RUNTIME_PREFIXES = ("gocxx::detail::", "gocxx::diag::", "gocxx::debug::", "gocxx::leakcheck::",
                     "boost::context", "make_fcontext", "jump_fcontext", "std::__invoke",
                     "std::invoke", "std::__apply", "std::apply", "gocxx::go<", "gocxx::run<",
                     "gocxx::blocking<", "gocxx::panic<", "gocxx::Chan<", "gocxx::select<")
_RUNTIME_HEADERS = ("/gocxx/runtime.hpp", "/gocxx/chan.hpp")

# Where the first frame of every goroutine is; nothing below it is the goroutine's. In
# gocxx::detail, possibly in an anonymous namespace; a name from the symbol table (no debug
# info) carries the parameter list. Below it is Boost's make_fcontext trampoline: a stripped
# program cannot name goroutine_entry, but make_fcontext is libboost_context's, so a backtrace
# ends above that (or above a null return address) instead.
_ENTRY_FUNCTION = re.compile(r"^gocxx::detail::.*::goroutine_entry(\(.*\))?$")
_TRAMPOLINE_FUNCTION = "make_fcontext"

# Boost.Context 1.74 x86-64 SysV jump_fcontext: the saved context points at 0x40 bytes holding
# mxcsr/x87 control word, r12, r13, r14, r15, rbx, rbp, and the return address; the resumed
# stack pointer is just above them.
_FCTX_REGS = ("r12", "r13", "r14", "r15", "rbx", "rbp", "rip")
_FCTX_SIZE = 0x40

# src/runtime/layout.cpp's DebugLayout, read when the program has no debug info. Keep in sync
# with it (tests/gdb_layout_check.py compares the two on a -g build): magic, version, size,
# &debug_allgs, DebugAllGs's gs and count offsets, sizeof(G), M::thread's offset, then
# (offset, size) of each of _Layout.FIELDS, the number of wait reasons and their width; then
# the wait reasons' strings.
_TABLE_SYMBOL = "gocxx_debug_layout"
_TABLE_SECTION = ".gocxx_layout"
_TABLE_MAGIC = b"gocxxGL\0"
_TABLE_VERSION = 1
_TABLE_HEADER = struct.Struct("<8sIIQIIII20III")


def _is_runtime(name, filename):
    return name.startswith(_RUNTIME_PREFIXES) or filename.endswith(_RUNTIME_HEADERS)


def _check_arch():
    arch = gdb.selected_inferior().architecture().name()
    if arch != "i386:x86-64":
        raise gdb.GdbError("gocxx: goroutine stacks are only supported on x86-64, not %s" % arch)


def _field(type_, path):
    """(byte offset, size) of a field of type_, path like "context.saved"."""
    offset = 0
    for name in path.split("."):
        for field in type_.strip_typedefs().fields():
            if field.name == name:
                offset += field.bitpos // 8
                type_ = field.type
                break
        else:
            raise gdb.GdbError("gocxx: %s has no field %s: this script does not match the "
                               "program's runtime" % (type_, path))
    return offset, type_.strip_typedefs().sizeof


class _Layout:
    """Where the registry and G's fields are. G is read as raw bytes, one memory read per
    goroutine: a program may have a hundred thousand of them. Made by _dwarf_layout or
    _table_layout."""

    FIELDS = ("id", "parent_id", "status", "create_pc", "start_pc", "wait_reason",
              "context.saved", "stack.bottom", "stack.size", "m")

    def __init__(self, source, allgs, allgs_gs, allgs_count, size, fields, m_thread, reasons):
        self.source = source            # "debug info" or "layout table"
        self.allgs = allgs              # address of gocxx::detail::debug_allgs
        self.allgs_gs = allgs_gs        # offsets of its gs and count
        self.allgs_count = allgs_count
        self.size = size                # sizeof(G)
        self.fields = fields            # {path: (offset, size)}
        self.m_thread = m_thread        # offset of M::thread's pthread_t, or None
        self.reasons = reasons          # {WaitReason value: Go's string}

    def reason(self, value):
        return self.reasons.get(value, str(value))


def _dwarf_layout():
    """The layout from the program's debug info, or None without it."""
    symbol = gdb.lookup_global_symbol("gocxx::detail::debug_allgs")
    if symbol is None:
        return None
    try:
        g = gdb.lookup_type("gocxx::detail::G")
        reasons = gdb.lookup_type("gocxx::detail::WaitReason")
        allgs_type = gdb.lookup_type("gocxx::detail::DebugAllGs")
    except gdb.error:
        return None
    try:
        m_thread = _field(gdb.lookup_type("gocxx::detail::M"), "thread._M_id._M_thread")[0]
    except (gdb.error, gdb.GdbError):
        m_thread = None
    names = {f.enumval: f.name.rsplit("::", 1)[-1] for f in reasons.fields()}
    return _Layout("debug info", int(symbol.value().address),
                   _field(allgs_type, "gs")[0], _field(allgs_type, "count")[0], g.sizeof,
                   {path: _field(g, path) for path in _Layout.FIELDS}, m_thread,
                   {value: WAIT_REASONS.get(name, name) for value, name in names.items()})


def _table_address():
    """Where the program's layout table is: its symbol, else its section (a stripped program
    has no symbols; sections survive). None if neither is there."""
    try:
        return int(gdb.parse_and_eval("(char *) &'%s'" % _TABLE_SYMBOL))
    except gdb.error:
        pass
    # "\t0x00005555555ae5a0 - 0x00005555555ae820 is .gocxx_layout[ in /path/libgocxx.so]",
    # at the addresses the sections are loaded at (the process's or the core's).
    files = gdb.execute("info files", to_string=True)
    match = re.search(r"^\s*(0x[0-9a-f]+) - 0x[0-9a-f]+ is %s\b" % re.escape(_TABLE_SECTION),
                      files, re.MULTILINE)
    return int(match.group(1), 16) if match else None


def _table_layout():
    """The layout from the table the runtime embeds (src/runtime/layout.cpp), or None. Read
    from memory, not from the file: its pointer to the registry is relocated at load time."""
    address = _table_address()
    if address is None:
        return None
    inferior = gdb.selected_inferior()
    try:
        header = _TABLE_HEADER.unpack(bytes(inferior.read_memory(address, _TABLE_HEADER.size)))
    except gdb.MemoryError as e:
        raise gdb.GdbError("gocxx: cannot read the layout table at %#x (%s); is the program "
                           "running?" % (address, e)) from None
    magic, version, size, allgs, allgs_gs, allgs_count, g_size, m_thread = header[:8]
    count, width = header[-2:]
    if magic != _TABLE_MAGIC:
        raise gdb.GdbError("gocxx: no layout table at %#x (magic %r)" % (address, magic))
    if version != _TABLE_VERSION:
        raise gdb.GdbError("gocxx: the program's layout table is version %d, this script reads "
                           "version %d: load the script the program embeds (or the one "
                           "installed with its gocxx)" % (version, _TABLE_VERSION))
    if size != _TABLE_HEADER.size + count * width:
        raise gdb.GdbError("gocxx: the layout table at %#x is corrupt (%d bytes, %d wait reasons "
                           "of %d)" % (address, size, count, width))
    pairs = header[8:-2]
    fields = {path: (pairs[2 * i], pairs[2 * i + 1]) for i, path in enumerate(_Layout.FIELDS)}
    raw = bytes(inferior.read_memory(address + _TABLE_HEADER.size, count * width))
    reasons = {value: raw[value * width:(value + 1) * width].split(b"\0", 1)[0].decode()
               for value in range(count)}
    return _Layout("layout table", allgs, allgs_gs, allgs_count, g_size, fields, m_thread,
                   reasons)


def find_layout():
    """The program's layout: from its debug info, else from its layout table."""
    found = _dwarf_layout() or _table_layout()
    if found is None:
        raise gdb.GdbError("gocxx: gocxx::detail::debug_allgs not found: not a gocxx program "
                           "(neither debug info nor gocxx's layout table, %s)" % _TABLE_SECTION)
    return found


class Goroutine:
    """One G of the registry, as it was when read."""

    def __init__(self, address, raw, layout):
        def get(path):
            offset, size = layout.fields[path]
            return int.from_bytes(raw[offset:offset + size], "little")

        self.address = address
        self.layout = layout
        self.id = get("id")
        self.parent_id = get("parent_id")
        self.status = get("status") & ~_SCAN_BIT
        self.create_pc = get("create_pc")
        self.start_pc = get("start_pc")
        self.wait_reason = layout.reason(get("wait_reason"))
        self.saved = get("context.saved")
        self.stack_bottom = get("stack.bottom")
        self.stack_size = get("stack.size")
        self.m = get("m")

    def state(self):
        return _STATUS_NAMES.get(self.status, "status %d" % self.status)

    def on_thread(self):
        return self.status in (_RUNNING, _SYSCALL)

    def listed(self):
        return self.status not in (_IDLE, _DEAD)

    def thread(self, threads=None):
        """The gdb thread running this goroutine, or None. threads: _thread_sps()."""
        if not self.on_thread():
            return None
        threads = _thread_sps() if threads is None else threads
        # The thread whose stack pointer is inside the goroutine's stack...
        for thread, sp in threads:
            if sp is not None and self.stack_bottom <= sp < self.stack_bottom + self.stack_size:
                return thread
        # ...or, if it is elsewhere (on a signal stack), its M's thread, matched by pthread_t.
        if not self.m or self.layout.m_thread is None:
            return None
        try:
            handle = struct.unpack("<Q", bytes(gdb.selected_inferior().read_memory(
                self.m + self.layout.m_thread, 8)))[0]
        except gdb.MemoryError:
            return None
        for thread, _ in threads:
            try:
                if int.from_bytes(thread.handle(), "little") == handle:
                    return thread
            except (gdb.error, RuntimeError, TypeError):
                pass  # no libthread_db
        return None


def _thread_sps():
    """[(thread, its stack pointer or None)] for every thread of the inferior."""
    previous = gdb.selected_thread()
    result = []
    try:
        for thread in gdb.selected_inferior().threads():
            try:
                thread.switch()
                result.append((thread, int(gdb.newest_frame().read_register("rsp"))))
            except gdb.error:
                result.append((thread, None))
    finally:
        if previous is not None and previous.is_valid():
            previous.switch()
    return result


def goroutines():
    """Every G ever created, in creation order, as Goroutine objects."""
    found = find_layout()
    inferior = gdb.selected_inferior()
    try:
        gs, = struct.unpack("<Q", bytes(inferior.read_memory(found.allgs + found.allgs_gs, 8)))
        count, = struct.unpack("<Q", bytes(inferior.read_memory(found.allgs + found.allgs_count,
                                                                8)))
        pointers = struct.unpack("<%dQ" % count, bytes(inferior.read_memory(gs, 8 * count))) \
            if count else ()
        for address in pointers:
            if address:
                yield Goroutine(address, bytes(inferior.read_memory(address, found.size)), found)
    except gdb.MemoryError as e:
        raise gdb.GdbError("gocxx: cannot read the goroutines (%s); is the program running?"
                           % e) from None


def find_goroutine(goid):
    for g in goroutines():
        if g.id == goid and g.listed():
            return g
    raise gdb.GdbError("gocxx: no goroutine %d" % goid)


def creation_site(pc):
    """(function, file, line) of the go() call that returned to pc, or None.

    go() is inlined into its caller, so the innermost block at pc belongs to the runtime; the
    creator is the innermost enclosing function that is not. An inlined function's symbol
    carries its call site (DW_AT_call_file/line), which is where the creator called it."""
    if not pc:
        return None
    pc -= 1  # inside the call instruction
    try:
        block = gdb.block_for_pc(pc)
    except RuntimeError:
        block = None
    functions = []  # innermost first
    while block is not None:
        if block.function is not None:
            functions.append(block.function)
        if block.is_static or block.is_global:
            break
        block = block.superblock
    for i, function in enumerate(functions):
        # Where in `function` pc is: pc's own line in the innermost one, else the call site of
        # the function inlined into it.
        if i == 0:
            sal = gdb.find_pc_line(pc)
            filename = sal.symtab.filename if sal.symtab else "?"
            line = sal.line
        else:
            callee = functions[i - 1]
            filename = callee.symtab.filename if callee.symtab else "?"
            line = callee.line
        if _is_runtime(function.print_name, filename):
            continue
        return _qualified(function.print_name, functions[i + 1:]), filename, line
    # No debug info for it: the nearest symbol ("name + offset"), else the return address.
    symbol = gdb.execute("info symbol %#x" % pc, to_string=True).strip()
    if symbol.startswith("No symbol matches"):
        return "%#x" % (pc + 1), "?", 0
    return symbol.split(" in section ")[0], "?", 0


def _qualified(name, outer):
    """gdb names an inlined lambda just "operator()"; the function it is inlined into (the
    std::__invoke that calls it) names the lambda's type in its template arguments."""
    if name != "operator()" or not outer:
        return name
    caller = outer[0].print_name
    end = caller.find("::<lambda")
    if end < 0:
        return name
    depth, start = 0, end  # back to the start of the qualified name that encloses the lambda
    while start > 0:
        c = caller[start - 1]
        if c in ")>":
            depth += 1
        elif c in "(<":
            if depth == 0:
                break
            depth -= 1
        elif c in ", " and depth == 0:
            break
        start -= 1
    close = caller.find(">", end + 1)
    return caller[start:close + 1] + "::operator()" if close > 0 else name


def _created_by(g):
    site = creation_site(g.create_pc)
    if site is None:
        return ""
    function, filename, line = site
    # The main goroutine was not created by a goroutine (Go prints no "created by" for it).
    text = function if g.parent_id == 0 else "%s in goroutine %d" % (function, g.parent_id)
    if line:
        text += " at %s:%d" % (filename, line)
    return text


class _FrameId:
    def __init__(self, sp, pc):
        self.sp = sp
        self.pc = pc


class GoroutineUnwinder(gdb.unwinder.Unwinder):
    """While `saved` is set, the caller of the selected thread's innermost real frame is the
    goroutine whose context is saved there: frames beyond it are the goroutine's stack,
    unwound from its saved registers with the ordinary DWARF unwinders."""

    def __init__(self):
        super().__init__("gocxx-goroutine")
        self.saved = None  # the goroutine's fcontext_t while armed
        self.level = None  # the frame whose caller is the goroutine, once sniffed

    def __call__(self, pending_frame):
        if self.saved is None:
            return None
        level = pending_frame.level()
        if self.level is None:
            self.level = level  # the first frame gdb asks us about: the innermost real one
        elif level != self.level:
            return None
        words = struct.unpack("<8Q", bytes(gdb.selected_inferior().read_memory(self.saved,
                                                                               _FCTX_SIZE)))
        pc = pending_frame.read_register("rip")
        # The frame's id must not be above the goroutine's frames (gdb stops a backtrace that
        # goes "inward"), and goroutine stacks are anywhere: use the saved context's address.
        info = pending_frame.create_unwind_info(_FrameId(gdb.Value(self.saved), pc))
        word = gdb.lookup_type("unsigned long")
        for name, value in zip(_FCTX_REGS, words[1:]):
            info.add_saved_register(name, gdb.Value(value).cast(word))
        info.add_saved_register("rsp", gdb.Value(self.saved + _FCTX_SIZE).cast(word))
        return info


class _Decorator(FrameDecorator):
    """Names functions as gdb's own backtrace does (without parameter lists)."""

    def function(self):
        frame = self.inferior_frame()
        if frame.type() in (gdb.NORMAL_FRAME, gdb.INLINE_FRAME):
            return frame.name() or "??"  # no symbol: a stripped program
        return super().function()


class GoroutineFrameFilter:
    """Enabled only while a goroutine command runs: ends the backtrace at goroutine_entry
    (below it is only the context trampoline) and, while a parked goroutine's stack is shown,
    hides the selected thread's own frames. Off otherwise, so that plain backtraces are gdb's."""

    def __init__(self, unwinder):
        self.name = "gocxx-goroutine"
        self.priority = 100
        self.enabled = False
        self.unwinder = unwinder

    def filter(self, frames):
        unwinder = self.unwinder
        if unwinder.saved is not None:
            frame = gdb.newest_frame()  # make gdb sniff until the unwinder has claimed a frame
            while unwinder.level is None and frame is not None:
                frame = frame.older()
        return self._filter(frames)

    def _filter(self, frames):
        unwinder = self.unwinder
        for decorator in frames:
            frame = decorator.inferior_frame()
            if unwinder.saved is not None and unwinder.level is not None \
                    and frame.level() <= unwinder.level:
                continue
            name = frame.name() or ""
            if name == _TRAMPOLINE_FUNCTION or frame.pc() == 0:
                return  # past goroutine_entry, in a program that cannot name it
            yield _Decorator(decorator)
            if _ENTRY_FUNCTION.match(name):
                return


_unwinder = GoroutineUnwinder()
gdb.unwinder.register_unwinder(None, _unwinder, replace=True)
_frame_filter = GoroutineFrameFilter(_unwinder)
gdb.frame_filters[_frame_filter.name] = _frame_filter


def _selected_level():
    try:
        return gdb.selected_frame().level()
    except gdb.error:
        return None


def _select_level(level):
    frame = gdb.newest_frame()
    while frame is not None and frame.level() < level:
        frame = frame.older()
    if frame is not None:
        frame.select()


def _execute(command):
    try:
        gdb.execute(command, from_tty=False)
    except gdb.error as e:
        raise gdb.GdbError(str(e)) from None  # reported as gdb's own, without a Python trace


def _with_goroutine(g, command, threads=None):
    """Runs command with g's stack as the current one."""
    if g.on_thread():
        thread = g.thread(threads)
        if thread is None:
            print("goroutine %d is %s on a thread gdb cannot find" % (g.id, g.state()))
            return
        previous = gdb.selected_thread()
        thread.switch()
        _frame_filter.enabled = True
        try:
            _execute(command)
        finally:
            _frame_filter.enabled = False
            if previous is not None and previous.is_valid():
                previous.switch()
        return
    if not g.saved:
        print("goroutine %d has not run yet; it will start at %s" %
              (g.id, gdb.execute("info symbol %#x" % g.start_pc, to_string=True).strip()))
        return
    _check_arch()
    level = _selected_level()
    gdb.invalidate_cached_frames()
    _unwinder.saved, _unwinder.level = g.saved, None
    _frame_filter.enabled = True
    try:
        # Select the goroutine's innermost frame, so that `info locals`, `up`, `print` and
        # the like start there.
        frame = gdb.newest_frame()
        while frame is not None and (_unwinder.level is None or frame.level() <= _unwinder.level):
            frame = frame.older()
        if frame is not None:
            frame.select()
        _execute(command)
    finally:
        _frame_filter.enabled = False
        _unwinder.saved, _unwinder.level = None, None
        gdb.invalidate_cached_frames()
        if level is not None:
            _select_level(level)  # the thread's own frame that was selected before


class InfoGoroutines(gdb.Command):
    """List the program's goroutines: id, state, wait reason, where it was created.
A '*' marks the goroutine running on the selected thread. Goroutines that have not been
started (idle) or have finished (dead) are not listed."""

    def __init__(self):
        super().__init__("info goroutines", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        if arg.strip():
            raise gdb.GdbError("usage: info goroutines")
        selected = gdb.selected_thread()
        threads = _thread_sps()
        sites = {}  # created_by text by (pc, parent): goroutines made in one place share it
        rows = []
        for g in goroutines():
            if not g.listed():
                continue
            state, mark = g.state(), " "
            if g.on_thread():
                thread = g.thread(threads)
                if thread is not None:
                    state += " (thread %d)" % thread.num
                    if selected is not None and thread.ptid == selected.ptid:
                        mark = "*"
            reason = g.wait_reason if g.status == _WAITING else ""
            key = (g.create_pc, g.parent_id)
            if key not in sites:
                sites[key] = _created_by(g)
            rows.append((mark, str(g.id), state, reason, sites[key]))
        header = (" ", "Id", "State", "Wait reason", "Created by")
        widths = [max(len(row[i]) for row in rows + [header]) for i in range(4)]
        for row in [header] + rows:
            print(("%-*s %-*s  %-*s  %-*s  %s" % (widths[0], row[0], widths[1], row[1], widths[2],
                                                  row[2], widths[3], row[3], row[4])).rstrip())


class GoroutineCommand(gdb.Command):
    """Run a command on a goroutine's stack: goroutine N [COMMAND], goroutine all [COMMAND].
COMMAND defaults to bt. A parked goroutine's frames follow the selected thread's innermost
frame, which backtraces hide (so they start at #1 or higher); `frame N`, `info locals` and
the like work within COMMAND. A running goroutine's command runs on the thread that runs it."""

    def __init__(self):
        super().__init__("goroutine", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        parts = arg.split(None, 1)
        if not parts:
            raise gdb.GdbError("usage: goroutine N|all [COMMAND]")
        command = parts[1] if len(parts) > 1 else "bt"
        if parts[0] == "all":
            threads = _thread_sps()
            for g in list(goroutines()):
                if g.listed():
                    reason = ", " + g.wait_reason if g.status == _WAITING and g.wait_reason else ""
                    print("\ngoroutine %d [%s%s]:" % (g.id, g.state(), reason))
                    try:
                        _with_goroutine(g, command, threads)
                    except gdb.GdbError as e:
                        print(e)
            return
        try:
            goid = int(parts[0], 0)
        except ValueError:
            raise gdb.GdbError("usage: goroutine N|all [COMMAND]") from None
        _with_goroutine(find_goroutine(goid), command)


InfoGoroutines()
GoroutineCommand()

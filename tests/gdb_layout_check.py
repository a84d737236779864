# Sourced by tests/gdb_test.sh into a gdb that has tools/gdb/gocxx.py loaded and a -g build of
# the program stopped: checks the layout table the runtime embeds for programs without debug
# info (src/runtime/layout.cpp, read by gocxx.py's _table_layout) against the debug info
# (_dwarf_layout), and its wait-reason strings against the runtime's own wait_reason_string
# (called in the program) for every WaitReason enumerator. This is what keeps the table, the
# script's reading of it, and the runtime in sync.
import gdb

problems = []
dwarf = _dwarf_layout()  # noqa: F821 (defined by gocxx.py)
table = _table_layout()  # noqa: F821
if dwarf is None or table is None:
    problems.append("debug info layout: %s, layout table: %s" % (dwarf, table))
else:
    for name in ("allgs", "allgs_gs", "allgs_count", "size", "fields", "m_thread"):
        if getattr(dwarf, name) != getattr(table, name):
            problems.append("%s: debug info %r, table %r"
                            % (name, getattr(dwarf, name), getattr(table, name)))
    enumerators = gdb.lookup_type("gocxx::detail::WaitReason").fields()
    count = [f.enumval for f in enumerators if f.name.endswith("::kCount")]
    if count != [len(table.reasons)]:
        problems.append("kCount %s, table has %d wait reasons" % (count, len(table.reasons)))
    for field in enumerators:
        if field.name.endswith("::kCount"):
            continue
        call = "gocxx::detail::wait_reason_string((gocxx::detail::WaitReason)%d)" % field.enumval
        actual = gdb.parse_and_eval(call).string()
        if table.reason(field.enumval) != actual:
            problems.append("%s: table %r, runtime %r"
                            % (field.name, table.reason(field.enumval), actual))
print("layout table: " + ("ok" if not problems else "MISMATCH %s" % problems))

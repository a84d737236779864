# Sourced by tests/gdb_test.sh into a gdb that has tools/gdb/gocxx.py loaded and the program
# stopped: compares the script's WAIT_REASONS table with the runtime's own wait_reason_string
# (called in the program) for every WaitReason enumerator.
import gdb

mismatches = []
for field in gdb.lookup_type("gocxx::detail::WaitReason").fields():
    name = field.name.rsplit("::", 1)[-1]
    if name == "kCount":
        continue
    call = "gocxx::detail::wait_reason_string((gocxx::detail::WaitReason)%d)" % field.enumval
    actual = gdb.parse_and_eval(call).string()
    if WAIT_REASONS.get(name) != actual:  # noqa: F821 (defined by gocxx.py)
        mismatches.append((name, WAIT_REASONS.get(name), actual))  # noqa: F821
print("wait reasons: " + ("ok" if not mismatches else "MISMATCH %s" % mismatches))

// SIGQUIT dumps all goroutines (gocxx::debug::handle_sigquit).
#pragma once

namespace gocxx::diag {

// Called by gocxx::run: installs the SIGQUIT dump unless GOCXX_SIGQUIT=0 or the program
// already handles (or ignores) SIGQUIT itself.
void install_sigquit_from_env();

}  // namespace gocxx::diag

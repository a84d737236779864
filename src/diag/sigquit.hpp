// SIGQUIT dumps all goroutines (gocxx::debug::handle_sigquit).
#pragma once

namespace gocxx::diag {

// Called by gocxx::run: installs the SIGQUIT dump unless GOCXX_SIGQUIT=0 or the program
// already handles SIGQUIT itself, or ignores it when a later run starts (an ignore already in
// place at the first run is taken as inherited and replaced, as Go does).
void install_sigquit_from_env();

}  // namespace gocxx::diag

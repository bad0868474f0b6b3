// logging.h — facepipe's log setup: everything to stderr through spdlog, one
// printable line per message (see printable() in error.h), timestamped when
// stderr is not a terminal (cron, pipes).
#pragma once

namespace facepipe {

// verbose > 0: debug; quiet: warnings and errors only; otherwise info.
void setup_logging(int verbose, bool quiet);

}  // namespace facepipe

#include "logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "error.h"

namespace facepipe {
namespace {

// %* in a pattern: the message with control characters escaped. Applied to every
// message, so no log call can be made to print a raw file name.
class PrintablePayload : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
        const std::string safe = printable(std::string_view(msg.payload.data(), msg.payload.size()));
        dest.append(safe.data(), safe.data() + safe.size());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<PrintablePayload>(); }
};

}  // namespace

void setup_logging(int verbose, bool quiet) {
    auto logger = spdlog::stderr_logger_mt("facepipe");
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<PrintablePayload>('*').set_pattern(isatty(STDERR_FILENO) ? "%l: %*" : "%Y-%m-%dT%H:%M:%S %l: %*");
    logger->set_formatter(std::move(formatter));
    spdlog::set_default_logger(logger);
    spdlog::set_level(quiet ? spdlog::level::warn : verbose > 0 ? spdlog::level::debug : spdlog::level::info);
}

}  // namespace facepipe

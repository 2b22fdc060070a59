// Logging setup: one default spdlog logger per process.
#include "base/log.hpp"

#include <memory>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace runvm {

Result<void> init_logging(const LogOptions& options) {
    const auto level = spdlog::level::from_str(options.level);
    if (level == spdlog::level::off && options.level != "off") {
        return Err(Error::msg("log level: unknown value '" + options.level +
                              "' (want trace, debug, info, warn, error or off)"));
    }
    std::shared_ptr<spdlog::logger> logger;
    try {
        // Called again (tests, re-configuration): the registry refuses duplicate names.
        spdlog::drop(options.name);
        if (options.path.empty()) {
            logger = spdlog::stderr_logger_mt(options.name);
        } else {
            logger = spdlog::basic_logger_mt(options.name, options.path);
        }
    } catch (const spdlog::spdlog_ex& e) {
        return Err(Error::msg(std::string("open log ") + options.path + ": " + e.what()));
    }
    if (options.format == LogFormat::json) {
        // Messages are escaped by the call sites that log user data; the pattern keeps one
        // object per line as runc's --log-format json does.
        logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","msg":"%v"})",
                            spdlog::pattern_time_type::utc);
    } else {
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%f %n[%P] %l: %v");
    }
    logger->set_level(level);
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(logger);
    return Ok();
}

} // namespace runvm

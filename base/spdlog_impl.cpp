// spdlog's out-of-line code, compiled once. Debian ships spdlog compiled only as a shared
// library, and the agent and the VMM link statically; header-only mode instead made every
// file that logs recompile all of spdlog (about 8 s a file at -O2 -g). This is what
// spdlog's own compiled-library build does: include the -inl.h parts with
// SPDLOG_COMPILED_LIB defined, and instantiate the sink bases the headers leave undefined.
#ifndef SPDLOG_COMPILED_LIB
#error "spdlog_impl.cpp is built with SPDLOG_COMPILED_LIB"
#endif

#include <mutex>

#include <spdlog/common-inl.h>
#include <spdlog/details/backtracer-inl.h>
#include <spdlog/details/file_helper-inl.h>
#include <spdlog/details/log_msg-inl.h>
#include <spdlog/details/log_msg_buffer-inl.h>
#include <spdlog/details/null_mutex.h>
#include <spdlog/details/os-inl.h>
#include <spdlog/details/periodic_worker-inl.h>
#include <spdlog/details/registry-inl.h>
#include <spdlog/logger-inl.h>
#include <spdlog/pattern_formatter-inl.h>
#include <spdlog/sinks/ansicolor_sink-inl.h>
#include <spdlog/sinks/base_sink-inl.h>
#include <spdlog/sinks/basic_file_sink-inl.h>
#include <spdlog/sinks/sink-inl.h>
#include <spdlog/sinks/stdout_sinks-inl.h>
#include <spdlog/spdlog-inl.h>

template class spdlog::sinks::base_sink<std::mutex>;
template class spdlog::sinks::base_sink<spdlog::details::null_mutex>;
template class spdlog::sinks::basic_file_sink<std::mutex>;
// The registry's default logger, before init_logging replaces it, writes to a color sink.
template class spdlog::sinks::ansicolor_sink<spdlog::details::console_mutex>;
template class spdlog::sinks::ansicolor_stdout_sink<spdlog::details::console_mutex>;
template class spdlog::sinks::stderr_sink<spdlog::details::console_mutex>;
template std::shared_ptr<spdlog::logger>
spdlog::stderr_logger_mt<spdlog::synchronous_factory>(const std::string&);
template std::shared_ptr<spdlog::logger>
spdlog::basic_logger_mt<spdlog::synchronous_factory>(const std::string&, const spdlog::filename_t&,
                                                     bool, const spdlog::file_event_handlers&);

// RFC 3339 formatting and parsing on the proleptic Gregorian calendar (UTC, no leap seconds).
#include "oci/timestamp.hpp"

#include <cstdint>
#include <cstdio>

namespace runvm::oci {
namespace {

// Howard Hinnant's days_from_civil / civil_from_days: days since 1970-01-01.
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2 ? 1 : 0;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t z, int64_t& y, int64_t& m, int64_t& d) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y = yoe + era * 400 + (m <= 2 ? 1 : 0);
}

int64_t days_in_month(int64_t y, int64_t m) {
    static constexpr int64_t kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : kDays[m - 1];
}

// Reads exactly `n` digits at text[pos].
bool digits(std::string_view text, size_t& pos, size_t n, int64_t& out) {
    if (pos + n > text.size()) {
        return false;
    }
    out = 0;
    for (size_t i = 0; i < n; ++i) {
        const char c = text[pos + i];
        if (c < '0' || c > '9') {
            return false;
        }
        out = out * 10 + (c - '0');
    }
    pos += n;
    return true;
}

bool expect(std::string_view text, size_t& pos, char c) {
    if (pos < text.size() && text[pos] == c) {
        ++pos;
        return true;
    }
    return false;
}

} // namespace

std::string format_rfc3339_nano(Timestamp t) {
    const int64_t ns = t.time_since_epoch().count();
    constexpr int64_t kNsPerDay = 86400LL * 1000000000LL;
    int64_t days = ns / kNsPerDay;
    int64_t rest = ns % kNsPerDay;
    if (rest < 0) {
        rest += kNsPerDay;
        --days;
    }
    int64_t y = 0;
    int64_t m = 0;
    int64_t d = 0;
    civil_from_days(days, y, m, d);
    const int64_t secs = rest / 1000000000LL;
    int64_t frac = rest % 1000000000LL;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld",
                  static_cast<long long>(y), static_cast<long long>(m), static_cast<long long>(d),
                  static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                  static_cast<long long>(secs % 60));
    std::string out(buf);
    if (frac != 0) {
        int width = 9;
        while (frac % 10 == 0) {
            frac /= 10;
            --width;
        }
        std::snprintf(buf, sizeof buf, ".%0*lld", width, static_cast<long long>(frac));
        out += buf;
    }
    return out + "Z";
}

Result<Timestamp> parse_rfc3339(std::string_view text) {
    const auto bad = [&](const char* why) {
        return Err(Error::msg("invalid RFC 3339 timestamp \"" + std::string(text) + "\": " + why));
    };
    size_t pos = 0;
    int64_t y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    if (!digits(text, pos, 4, y) || !expect(text, pos, '-') || !digits(text, pos, 2, mo) ||
        !expect(text, pos, '-') || !digits(text, pos, 2, d) ||
        !(expect(text, pos, 'T') || expect(text, pos, 't')) || !digits(text, pos, 2, h) ||
        !expect(text, pos, ':') || !digits(text, pos, 2, mi) || !expect(text, pos, ':') ||
        !digits(text, pos, 2, s)) {
        return bad("want YYYY-MM-DDTHH:MM:SS");
    }
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59) {
        return bad("field out of range");
    }
    int64_t nanos = 0;
    if (expect(text, pos, '.')) {
        size_t n = 0;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            if (n < 9) {
                nanos = nanos * 10 + (text[pos] - '0');
            }
            ++n;
            ++pos;
        }
        if (n == 0 || n > 9) {
            return bad("fraction must have 1 to 9 digits");
        }
        for (size_t i = n; i < 9; ++i) {
            nanos *= 10;
        }
    }
    int64_t offset_minutes = 0;
    if (!(expect(text, pos, 'Z') || expect(text, pos, 'z'))) {
        const bool plus = expect(text, pos, '+');
        if (!plus && !expect(text, pos, '-')) {
            return bad("want Z or a +hh:mm offset");
        }
        int64_t oh = 0, om = 0;
        if (!digits(text, pos, 2, oh) || !expect(text, pos, ':') || !digits(text, pos, 2, om) ||
            oh > 23 || om > 59) {
            return bad("want Z or a +hh:mm offset");
        }
        offset_minutes = (plus ? 1 : -1) * (oh * 60 + om);
    }
    if (pos != text.size()) {
        return bad("trailing characters");
    }
    const int64_t secs =
        days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset_minutes * 60;
    // Nanoseconds in an int64 reach from 1677 to 2262.
    constexpr int64_t kMaxSeconds = INT64_MAX / 1000000000LL - 1;
    if (secs > kMaxSeconds || secs < -kMaxSeconds) {
        return bad("outside the years 1678 to 2261");
    }
    return Timestamp(std::chrono::nanoseconds(secs * 1000000000LL + nanos));
}

} // namespace runvm::oci

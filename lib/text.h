// text.h — small text helpers shared by the modules that read names from files
// and those that print reports, so that each rule lives in one place.
#pragma once
#include <string>
#include <string_view>

namespace facepipe {

// format_number(printf_format, v)
//   requires: printf_format holds exactly one conversion for a double (e.g.
//             "%.3f", "%.1f%%", "%g") and formats to fewer than 64 bytes.
//   ensures:  the formatted text (snprintf in the C locale's manner).
std::string format_number(const char* printf_format, double v);

// True when `s` holds a C0 control character (< 0x20) or DEL: such a name
// (person, label, path in a file) is refused by the readers that use it.
bool has_control_chars(std::string_view s);

}  // namespace facepipe

// Writes a file in the layout of `trtexec --exportOutput=FILE` with C++ iostreams, as trtexec does.
//
// No trtexec output file from NVIDIA's samples or docs could be found, so this program stands in for one: it
// follows exportJSONOutput in TensorRT's samples/common/sampleReporting.cpp (a "[" line; per output binding a
// `{ "name" : ...` line, then `, "dimensions" : "AxB"` and `, "values" : [ ... ]` lines, the first binding led by
// two spaces and the rest by ", "; then "]"), and prints each value with a default-formatted std::ostream, as
// Bindings::dumpBindingValues does: 6 significant digits, "nan"/"-nan"/"inf" for non-finite values.
//
// Usage: export_output OUT NAME DIMS V1 V2 ... [-- NAME DIMS V1 ...]   (DIMS like 2x4; values parsed with strtof)
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

int main(int argc, char** argv) {
    if (argc < 4) return 2;
    std::ofstream os(argv[1], std::ofstream::trunc);
    std::string lead = "  ";
    os << "[" << std::endl;
    int i = 2;
    while (i < argc) {
        os << lead << "{ \"name\" : \"" << argv[i] << "\"" << std::endl;
        lead = ", ";
        os << "  " << lead << "\"dimensions\" : \"" << argv[i + 1] << "\"" << std::endl;
        os << "  " << lead << "\"values\" : [ ";
        i += 2;
        bool first = true;
        for (; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
            if (!first) os << lead;
            os << std::strtof(argv[i], nullptr);
            first = false;
        }
        os << " ]" << std::endl << "  }" << std::endl;
        ++i;  // skip "--"
    }
    os << "]" << std::endl;
    return 0;
}

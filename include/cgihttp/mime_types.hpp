// cgihttp/mime_types.hpp - guessing a file's media type from its name.
// Python counterpart: mimetypes.guess_type() (with /etc/mime.types read as Python does) and
// SimpleHTTPRequestHandler.guess_type()/extensions_map.
#pragma once

#include "detail/strings.hpp"

#include <algorithm>
#include <cstddef>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>

namespace cgihttp {

/// One row of a media-type table: a file-name suffix (with its dot) and a media type.
struct mime_entry {
    std::string_view extension;
    std::string_view type;
};

/// Python 3.11's built-in mimetypes table, updated where the web moved on (JavaScript is
/// text/javascript per RFC 9239) and completed with web types it lacks (fonts, WebP, ...).
/// Sorted by extension.
inline constexpr mime_entry builtin_mime_types[] = {
    {".3g2", "audio/3gpp2"},
    {".3gp", "audio/3gpp"},
    {".3gpp", "audio/3gpp"},
    {".3gpp2", "audio/3gpp2"},
    {".7z", "application/x-7z-compressed"},
    {".a", "application/octet-stream"},
    {".aac", "audio/aac"},
    {".adts", "audio/aac"},
    {".ai", "application/postscript"},
    {".aif", "audio/x-aiff"},
    {".aifc", "audio/x-aiff"},
    {".aiff", "audio/x-aiff"},
    {".apng", "image/apng"},
    {".ass", "audio/aac"},
    {".au", "audio/basic"},
    {".avi", "video/x-msvideo"},
    {".avif", "image/avif"},
    {".bat", "text/plain"},
    {".bcpio", "application/x-bcpio"},
    {".bin", "application/octet-stream"},
    {".bmp", "image/bmp"},
    {".c", "text/plain"},
    {".cdf", "application/x-netcdf"},
    {".cpio", "application/x-cpio"},
    {".crt", "application/x-x509-ca-cert"},
    {".csh", "application/x-csh"},
    {".css", "text/css"},
    {".csv", "text/csv"},
    {".dll", "application/octet-stream"},
    {".doc", "application/msword"},
    {".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {".dot", "application/msword"},
    {".dvi", "application/x-dvi"},
    {".eml", "message/rfc822"},
    {".eps", "application/postscript"},
    {".epub", "application/epub+zip"},
    {".etx", "text/x-setext"},
    {".exe", "application/octet-stream"},
    {".flac", "audio/flac"},
    {".gif", "image/gif"},
    {".gtar", "application/x-gtar"},
    {".h", "text/plain"},
    {".h5", "application/x-hdf5"},
    {".hdf", "application/x-hdf"},
    {".heic", "image/heic"},
    {".heif", "image/heif"},
    {".htm", "text/html"},
    {".html", "text/html"},
    {".ico", "image/vnd.microsoft.icon"},
    {".ics", "text/calendar"},
    {".ief", "image/ief"},
    {".jpe", "image/jpeg"},
    {".jpeg", "image/jpeg"},
    {".jpg", "image/jpeg"},
    {".js", "text/javascript"},
    {".json", "application/json"},
    {".jsonld", "application/ld+json"},
    {".jxl", "image/jxl"},
    {".ksh", "text/plain"},
    {".latex", "application/x-latex"},
    {".loas", "audio/aac"},
    {".m1v", "video/mpeg"},
    {".m3u", "application/vnd.apple.mpegurl"},
    {".m3u8", "application/vnd.apple.mpegurl"},
    {".m4a", "audio/mp4"},
    {".m4v", "video/mp4"},
    {".man", "application/x-troff-man"},
    {".map", "application/json"},
    {".markdown", "text/markdown"},
    {".md", "text/markdown"},
    {".me", "application/x-troff-me"},
    {".mht", "message/rfc822"},
    {".mhtml", "message/rfc822"},
    {".mid", "audio/midi"},
    {".midi", "audio/midi"},
    {".mif", "application/x-mif"},
    {".mjs", "text/javascript"},
    {".mkv", "video/x-matroska"},
    {".mov", "video/quicktime"},
    {".movie", "video/x-sgi-movie"},
    {".mp2", "audio/mpeg"},
    {".mp3", "audio/mpeg"},
    {".mp4", "video/mp4"},
    {".mpa", "video/mpeg"},
    {".mpe", "video/mpeg"},
    {".mpeg", "video/mpeg"},
    {".mpg", "video/mpeg"},
    {".ms", "application/x-troff-ms"},
    {".n3", "text/n3"},
    {".nc", "application/x-netcdf"},
    {".nq", "application/n-quads"},
    {".nt", "application/n-triples"},
    {".nws", "message/rfc822"},
    {".o", "application/octet-stream"},
    {".obj", "application/octet-stream"},
    {".oda", "application/oda"},
    {".odp", "application/vnd.oasis.opendocument.presentation"},
    {".ods", "application/vnd.oasis.opendocument.spreadsheet"},
    {".odt", "application/vnd.oasis.opendocument.text"},
    {".oga", "audio/ogg"},
    {".ogg", "audio/ogg"},
    {".ogv", "video/ogg"},
    {".opus", "audio/opus"},
    {".otf", "font/otf"},
    {".p12", "application/x-pkcs12"},
    {".p7c", "application/pkcs7-mime"},
    {".pbm", "image/x-portable-bitmap"},
    {".pdf", "application/pdf"},
    {".pem", "application/x-pem-file"},
    {".pfx", "application/x-pkcs12"},
    {".pgm", "image/x-portable-graymap"},
    {".pl", "text/plain"},
    {".png", "image/png"},
    {".pnm", "image/x-portable-anymap"},
    {".pot", "application/vnd.ms-powerpoint"},
    {".ppa", "application/vnd.ms-powerpoint"},
    {".ppm", "image/x-portable-pixmap"},
    {".pps", "application/vnd.ms-powerpoint"},
    {".ppt", "application/vnd.ms-powerpoint"},
    {".pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    {".ps", "application/postscript"},
    {".pwz", "application/vnd.ms-powerpoint"},
    {".py", "text/x-python"},
    {".pyc", "application/x-python-code"},
    {".pyo", "application/x-python-code"},
    {".qt", "video/quicktime"},
    {".ra", "audio/x-pn-realaudio"},
    {".ram", "application/x-pn-realaudio"},
    {".ras", "image/x-cmu-raster"},
    {".rdf", "application/xml"},
    {".rgb", "image/x-rgb"},
    {".roff", "application/x-troff"},
    {".rtf", "application/rtf"},
    {".rtx", "text/richtext"},
    {".sgm", "text/x-sgml"},
    {".sgml", "text/x-sgml"},
    {".sh", "application/x-sh"},
    {".shar", "application/x-shar"},
    {".snd", "audio/basic"},
    {".so", "application/octet-stream"},
    {".src", "application/x-wais-source"},
    {".srt", "text/plain"},
    {".sv4cpio", "application/x-sv4cpio"},
    {".sv4crc", "application/x-sv4crc"},
    {".svg", "image/svg+xml"},
    {".swf", "application/x-shockwave-flash"},
    {".t", "application/x-troff"},
    {".tar", "application/x-tar"},
    {".tcl", "application/x-tcl"},
    {".tex", "application/x-tex"},
    {".texi", "application/x-texinfo"},
    {".texinfo", "application/x-texinfo"},
    {".tif", "image/tiff"},
    {".tiff", "image/tiff"},
    {".toml", "application/toml"},
    {".tr", "application/x-troff"},
    {".trig", "application/trig"},
    {".tsv", "text/tab-separated-values"},
    {".ttf", "font/ttf"},
    {".txt", "text/plain"},
    {".ustar", "application/x-ustar"},
    {".vcf", "text/x-vcard"},
    {".vtt", "text/vtt"},
    {".wasm", "application/wasm"},
    {".wav", "audio/x-wav"},
    {".webm", "video/webm"},
    {".webmanifest", "application/manifest+json"},
    {".webp", "image/webp"},
    {".wiz", "application/msword"},
    {".woff", "font/woff"},
    {".woff2", "font/woff2"},
    {".wsdl", "application/xml"},
    {".xbm", "image/x-xbitmap"},
    {".xhtml", "application/xhtml+xml"},
    {".xlb", "application/vnd.ms-excel"},
    {".xls", "application/vnd.ms-excel"},
    {".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {".xml", "text/xml"},
    {".xpdl", "application/xml"},
    {".xpm", "image/x-xpixmap"},
    {".xsl", "application/xml"},
    {".xwd", "image/x-xwindowdump"},
    {".yaml", "application/yaml"},
    {".yml", "application/yaml"},
    {".zip", "application/zip"},
};

/// Python's mimetypes suffix_map: suffixes that stand for two ("x.tgz" is "x.tar.gz").
inline constexpr mime_entry mime_suffix_aliases[] = {
    {".svgz", ".svg.gz"}, {".tgz", ".tar.gz"},   {".taz", ".tar.gz"},
    {".tz", ".tar.gz"},   {".tbz2", ".tar.bz2"}, {".txz", ".tar.xz"},
};

/// Python's mimetypes encodings_map keys: content codings named by a suffix (case-sensitive).
inline constexpr std::string_view mime_encoding_suffixes[] = {".gz", ".Z", ".bz2", ".xz", ".br"};

/// The suffix of the last path component, dot included ("" when none): posixpath.splitext.
constexpr std::string_view path_extension(std::string_view path) noexcept {
    const std::size_t slash = path.rfind('/');
    const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
    const std::size_t dot = name.rfind('.');
    if (dot == std::string_view::npos || name.find_first_not_of('.') > dot)
        return {}; // no dot, or only leading dots (".profile")
    return name.substr(dot);
}

/// A media-type database: the built-in table, overridden by a mime.types file when one is
/// loaded (Python reads /etc/mime.types and friends the same way).
class mime_types {
public:
    /// The built-in table only.
    mime_types() = default;

    /// The built-in table overridden by the first readable file among Python's knownfiles.
    static const mime_types& system() {
        static const mime_types db = [] {
            mime_types loaded;
            for (const char* file :
                 {"/etc/mime.types", "/etc/httpd/mime.types", "/etc/httpd/conf/mime.types",
                  "/etc/apache/mime.types", "/etc/apache2/mime.types", "/usr/local/etc/mime.types"})
                loaded.load(file);
            return loaded;
        }();
        return db;
    }

    /// Reads a mime.types file ("type ext1 ext2 ...", '#' comments); later entries win.
    /// Returns false when the file cannot be read.
    bool load(const std::string& file) {
        std::ifstream in(file);
        if (!in) return false;
        for (std::string line; std::getline(in, line);) {
            line = line.substr(0, line.find('#'));
            std::istringstream words(line);
            std::string type;
            if (!(words >> type)) continue;
            for (std::string ext; words >> ext;)
                overrides_["." + ext] = type;
        }
        return true;
    }

    /// The media type of a file name as Python's mimetypes.guess_type() finds it: suffix
    /// aliases expanded, a content-coding suffix skipped, then the suffix looked up as is and
    /// lower-cased. Empty when unknown.
    std::string_view guess(std::string_view path) const {
        std::string name(path);
        std::string_view ext = path_extension(name);
        for (bool expanded = true; expanded;) {
            expanded = false;
            const std::string lower = lowered(ext);
            for (const mime_entry& alias : mime_suffix_aliases) {
                if (lower == alias.extension) {
                    name = name.substr(0, name.size() - ext.size()) + std::string(alias.type);
                    ext = path_extension(name);
                    expanded = true;
                    break;
                }
            }
        }
        if (std::find(std::begin(mime_encoding_suffixes), std::end(mime_encoding_suffixes), ext) !=
            std::end(mime_encoding_suffixes)) {
            name.resize(name.size() - ext.size());
            ext = path_extension(name);
        }
        if (ext.empty()) return {};
        const std::string_view exact = lookup(std::string(ext));
        return exact.empty() ? lookup(lowered(ext)) : exact;
    }

    /// The type registered for exactly this suffix, or empty.
    std::string_view lookup(const std::string& ext) const {
        if (const auto it = overrides_.find(ext); it != overrides_.end()) return it->second;
        const auto* end = std::end(builtin_mime_types);
        const auto* it = std::lower_bound(
            std::begin(builtin_mime_types), end, ext,
            [](const mime_entry& e, const std::string& key) { return e.extension < key; });
        return it != end && it->extension == ext ? it->type : std::string_view{};
    }

private:
    static std::string lowered(std::string_view s) {
        std::string out(s);
        for (char& c : out)
            c = detail::to_lower(c);
        return out;
    }

    std::unordered_map<std::string, std::string> overrides_;
};

} // namespace cgihttp

// cgihttp/version.hpp - the library version.
#pragma once

#define CGIHTTP_VERSION_MAJOR 0
#define CGIHTTP_VERSION_MINOR 1
#define CGIHTTP_VERSION_PATCH 0
#define CGIHTTP_VERSION_STRING "0.1.0"

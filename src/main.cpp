#include <bulwark/cli/cli.hpp>

int main(int argc, char **argv) {
  return bulwark::cli::run(argc, argv);
}

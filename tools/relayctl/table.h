#ifndef RELAY_TOOLS_RELAYCTL_TABLE_H_
#define RELAY_TOOLS_RELAYCTL_TABLE_H_

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

namespace relay::relayctl {

// A text table with columns aligned to their widest cell:
//   Table t({"ID", "NAME"});
//   t.AddRow({"doc-1", "report.pdf"});
//   t.Print(std::cout);
class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}

  void AddRow(std::vector<std::string> row) {
    row.resize(header_.size());
    rows_.push_back(std::move(row));
  }
  bool empty() const { return rows_.empty(); }

  void Print(std::ostream& out) const {
    std::vector<size_t> widths(header_.size());
    for (size_t c = 0; c < header_.size(); ++c) widths[c] = header_[c].size();
    for (const auto& row : rows_) {
      for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
    }
    PrintRow(out, header_, widths);
    for (const auto& row : rows_) PrintRow(out, row, widths);
  }

 private:
  static void PrintRow(std::ostream& out, const std::vector<std::string>& row,
                       const std::vector<size_t>& widths) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(widths[c] - row[c].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  }

  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace relay::relayctl

#endif  // RELAY_TOOLS_RELAYCTL_TABLE_H_

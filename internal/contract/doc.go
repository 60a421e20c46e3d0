// Package contract has no API: its tests keep CONTRACT.md, the README and
// the commands' help texts true to the code. Every reason code, header,
// prediction and label field, family, metric, row column, ClickHouse table
// and column, alert name, label and annotation, action field and command
// that CONTRACT.md lists must exist in the code, and the code must have no
// other; every "CONTRACT.md section N" cited in the repository must name
// one of its sections; and every repository path the README, CONTRACT.md and
// the help texts name must exist.
//
// It deliberately reads the code as source (go/parser) where the names are
// unexported constants or literals, so that a name added to the code
// without a line in CONTRACT.md fails here.
package contract

# make graph: the demo schema's relationships as an ER diagram (Graphviz),
# doc/relations.svg, plus the Graphviz and Mermaid sources.
.PHONY: graph
## graph: doc/relations.svg, the demo schema as an ER diagram (Graphviz)
graph: relext.so
	@command -v dot >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq graphviz >/dev/null; } || { echo "please install graphviz"; exit 1; }
	@mkdir -p doc
	@printf '%s\n' '.read sql/demo.sql' '.mode list' '.headers off' \
	  '.output doc/relations.dot' "SELECT rel_graph('dot');" \
	  '.output doc/relations.mmd' "SELECT rel_graph('mermaid');" | $(SQLITE3) :memory: >/dev/null 2>&1; true
	dot -Tsvg doc/relations.dot -o doc/relations.svg
	@echo "wrote doc/relations.svg"

using System.Diagnostics;
using System.Text.Json.Nodes;
using EdgeProfile.Hub.Storage;
using EdgeProfile.Knowledge.Graph;

namespace EdgeProfile.Hub.Knowledge;

/// <summary>
/// The hub's knowledge graph: a triple store in <c>{Hub:DataDir}/graph.db</c> (SQLite with SPO/POS/OSP indexes; on a
/// PostgreSQL hub it is still a local file of each replica, imported on each), the product taxonomy, domain
/// knowledge and catalogues imported into it, and queries in the documented Cypher subset. One operation at a time
/// (the store is one connection).
/// </summary>
internal sealed class GraphService(HubPaths paths) : IDisposable
{
    /// <summary>Most rows a query returns when it names no LIMIT.</summary>
    public const int DefaultLimit = 1000;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, Term?> _resolved = new(StringComparer.Ordinal);
    private TripleStore? _store;

    /// <summary>Runs a query; the rows as JSON (columns, rows of names/literals), with the time it took.</summary>
    /// <exception cref="GraphQuerySyntaxException">The query does not parse (names the position).</exception>
    public Task<JsonObject> QueryAsync(string text, CancellationToken cancellationToken) => WithStoreAsync(store =>
    {
        var query = CypherParser.Parse(text);
        query.Limit ??= DefaultLimit;
        var watch = Stopwatch.StartNew();
        var result = new QueryEngine(store).Execute(query);
        var rows = new JsonArray();
        foreach (var row in result.Rows)
        {
            var item = new JsonObject();
            for (int c = 0; c < result.Columns.Count; c++)
            {
                item[result.Columns[c]] = row.Values[c] is { } term ? Json(term) : null;
            }

            rows.Add(item);
        }

        return new JsonObject
        {
            ["columns"] = new JsonArray([.. result.Columns.Select(c => (JsonNode?)JsonValue.Create(c))]),
            ["rows"] = rows,
            ["count"] = result.Rows.Count,
            ["limit"] = query.Limit,
            ["elapsedMs"] = Math.Round(watch.Elapsed.TotalMilliseconds, 3),
        };
    }, cancellationToken);

    /// <summary>Imports a Google product taxonomy file (<c>ID - A &gt; B &gt; C</c> lines).</summary>
    public Task<TaxonomyImportResult> ImportTaxonomyAsync(string text, CancellationToken cancellationToken) =>
        WithStoreAsync(store =>
        {
            _resolved.Clear();
            return TaxonomyImporter.Import(store, new StringReader(text));
        }, cancellationToken);

    /// <summary>Imports domain knowledge (<c>Subject predicate Object</c> lines), names resolved to taxonomy categories.</summary>
    public Task<DomainKnowledgeImportResult> ImportKnowledgeAsync(string text, CancellationToken cancellationToken) =>
        WithStoreAsync(store => DomainKnowledge.Import(store, new StringReader(text), resolveCategoryNames: true), cancellationToken);

    /// <summary>
    /// Records customer → category interest observations from the stores' deltas (see <see cref="CategoryObservations"/>).
    /// Resolved category paths are cached until the next taxonomy import.
    /// </summary>
    /// <param name="observations">The observations.</param>
    /// <param name="skip">Customers not to record, checked inside the store's lock (erased meanwhile).</param>
    /// <param name="cancellationToken">Cancels waiting for the store.</param>
    public Task<CategoryObservationResult> RecordInterestsAsync(IReadOnlyList<CategoryObservation> observations, Func<string, bool> skip, CancellationToken cancellationToken) =>
        WithStoreAsync(store => CategoryObservations.Record(store, observations.Where(o => !skip(o.CustomerId)), _resolved), cancellationToken);

    /// <summary>Removes an erased customer's node and interest edges; the triples removed.</summary>
    public Task<int> ForgetCustomerAsync(string customerId, CancellationToken cancellationToken) =>
        WithStoreAsync(store => CategoryObservations.Forget(store, customerId), cancellationToken);

    /// <summary>
    /// The graph's facts for rule predicates the rules read but do not define (<see cref="EdgeProfile.Knowledge.TagRuleSet.ExternalPredicates"/>):
    /// for each binary predicate, every triple with it, as <c>pred("subject", "object").</c> lines, an entity written as
    /// its <c>name</c> when it has one (a category by its name, e.g. <c>needs("Baby Strollers", "CarSeatSafetyInfo")</c>).
    /// Null when there would be more than <paramref name="max"/>.
    /// </summary>
    public Task<IReadOnlyList<string>?> RuleFactsAsync(IReadOnlyList<(string Predicate, int Arity)> predicates, int max, CancellationToken cancellationToken) =>
        WithStoreAsync<IReadOnlyList<string>?>(store =>
        {
            var lines = new List<string>();
            foreach (var (predicate, arity) in predicates)
            {
                if (arity != 2)
                {
                    continue;
                }

                var p = Term.Name(predicate);
                if (store.Count(null, p, null) > max - lines.Count)
                {
                    return null;
                }

                foreach (var t in store.Match(null, p, null))
                {
                    lines.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                        $"{predicate}({RuleConstant(store, t.Subject)}, {RuleConstant(store, t.Object)})."));
                }
            }

            lines.Sort(StringComparer.Ordinal);
            return lines;
        }, cancellationToken);

    /// <summary>How many triples the graph holds.</summary>
    public Task<long> CountAsync(CancellationToken cancellationToken) => WithStoreAsync(store => store.Count(), cancellationToken);

    /// <inheritdoc />
    public void Dispose()
    {
        _store?.Dispose();
        _gate.Dispose();
    }

    private static string RuleConstant(TripleStore store, Term term)
    {
        if (term.Kind == TermKind.Number)
        {
            return EdgeProfile.Knowledge.Rules.Value.Of(term.AsNumber()).ToString();
        }

        var name = term.Kind == TermKind.Name
            ? store.Match(term, Vocabulary.NameProperty, null).Select(t => t.Object.Lexical).FirstOrDefault() ?? term.Lexical
            : term.Lexical;
        return EdgeProfile.Knowledge.Rules.Value.Of(name).ToString();
    }

    private static JsonNode Json(Term term) => term.Kind switch
    {
        TermKind.Number => JsonValue.Create(double.Parse(term.Lexical, System.Globalization.CultureInfo.InvariantCulture)),
        TermKind.Boolean => JsonValue.Create(term.Lexical == "true"),
        _ => JsonValue.Create(term.Lexical),
    };

    private async Task<T> WithStoreAsync<T>(Func<TripleStore, T> work, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _store ??= TripleStore.Open(Path.Combine(paths.DataDir, "graph.db"));
            return await Task.Run(() => work(_store), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }
}

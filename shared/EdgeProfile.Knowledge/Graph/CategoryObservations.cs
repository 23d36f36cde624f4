namespace EdgeProfile.Knowledge.Graph;

/// <summary>
/// One observation from a store's profile delta: a customer's pseudonymous id (the hub's profile id, never a raw
/// key), the category path of their latest event there (<c>Baby &amp; Toddler &gt; Feeding &gt; Formula</c>), and the
/// time of that event (Unix milliseconds).
/// </summary>
/// <param name="CustomerId">Pseudonymous customer id.</param>
/// <param name="CategoryPath">Category path as the store reported it.</param>
/// <param name="AtUnixMs">Time of the event.</param>
public sealed record CategoryObservation(string CustomerId, string CategoryPath, long AtUnixMs);

/// <summary>What one <see cref="CategoryObservations.Record"/> call did.</summary>
/// <param name="Recorded">Observations that counted (a newer event for their customer and category).</param>
/// <param name="Repeated">Observations of an event already counted (a store re-sending the same view).</param>
/// <param name="Unmatched">Observations whose category matched no taxonomy category (not recorded).</param>
public sealed record CategoryObservationResult(int Recorded, int Repeated, int Unmatched);

/// <summary>
/// Customer → category interest edges aggregated from the stores' profile deltas, on the same nodes as
/// <see cref="InterestEdges"/>: <c>customer:ID interestedIn CATEGORY</c> and the interest node
/// <c>interest:ID|CATEGORY</c> with <c>count</c> (events counted) and <c>lastSeen</c>. A category path resolves to the
/// taxonomy node with that <c>path</c>, else to its deepest ancestor path that exists, else to a top-level category of
/// that name. An observation counts only when it is newer than the interest's <c>lastSeen</c>, so a store re-sending
/// a customer's view (after new tag rules, a retried upload) does not count the same event twice; two stores' events
/// arriving out of time order can under-count by the older one (stated, not hidden).
/// </summary>
public static class CategoryObservations
{
    /// <summary>Resolves a store's category path onto a taxonomy category node, or null.</summary>
    /// <param name="store">The store with the taxonomy imported.</param>
    /// <param name="categoryPath">The path (segments separated by <c>&gt;</c>).</param>
    /// <returns>The category node, or null.</returns>
    public static Term? Resolve(TripleStore store, string categoryPath)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(categoryPath);
        var segments = categoryPath.Split('>', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        for (var n = segments.Length; n > 0; n--)
        {
            var path = string.Join(" > ", segments.Take(n));
            foreach (var t in store.Match(null, Vocabulary.Path, Term.Text(path)))
            {
                return t.Subject;
            }
        }

        if (segments.Length > 0)
        {
            foreach (var t in store.Match(null, Vocabulary.NameProperty, Term.Text(segments[0])))
            {
                if (store.Contains(t.Subject, Vocabulary.Type, Vocabulary.CategoryClass))
                {
                    return t.Subject;
                }
            }
        }

        return null;
    }

    /// <summary>Records observations in one transaction.</summary>
    /// <param name="store">The store.</param>
    /// <param name="observations">The observations.</param>
    /// <param name="resolved">A cache of resolved paths the caller may keep between calls (null: none).</param>
    /// <returns>What was recorded.</returns>
    public static CategoryObservationResult Record(TripleStore store, IEnumerable<CategoryObservation> observations, IDictionary<string, Term?>? resolved = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(observations);
        resolved ??= new Dictionary<string, Term?>(StringComparer.Ordinal);
        int recorded = 0, repeated = 0, unmatched = 0;
        using var batch = store.InBatch ? null : store.BeginBatch();
        foreach (var o in observations)
        {
            if (!resolved.TryGetValue(o.CategoryPath, out var category))
            {
                category = Resolve(store, o.CategoryPath);
                resolved[o.CategoryPath] = category;
            }

            if (category is null)
            {
                unmatched++;
                continue;
            }

            var node = InterestEdges.InterestNode(o.CustomerId, category);
            if (InterestEdges.Number(store, node, Vocabulary.LastSeen) is { } seen && o.AtUnixMs <= seen)
            {
                repeated++;
                continue;
            }

            InterestEdges.Write(store, o.CustomerId, category,
                (Vocabulary.Count, (InterestEdges.Number(store, node, Vocabulary.Count) ?? 0) + 1),
                (Vocabulary.LastSeen, o.AtUnixMs));
            recorded++;
        }

        batch?.Commit();
        return new CategoryObservationResult(recorded, repeated, unmatched);
    }

    /// <summary>Removes a customer and their interest nodes (erasure); returns the triples removed.</summary>
    /// <param name="store">The store.</param>
    /// <param name="customerId">The pseudonymous id.</param>
    /// <returns>How many triples were removed.</returns>
    public static int Forget(TripleStore store, string customerId)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(customerId);
        var who = InterestEdges.CustomerNode(customerId);
        using var batch = store.InBatch ? null : store.BeginBatch();
        var removed = 0;
        foreach (var t in store.Match(null, Vocabulary.Customer, who))
        {
            removed += store.RemoveMatching(t.Subject, null, null);
        }

        removed += store.RemoveMatching(who, null, null);
        batch?.Commit();
        return removed;
    }
}

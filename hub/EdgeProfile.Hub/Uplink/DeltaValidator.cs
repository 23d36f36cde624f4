using EdgeProfile.Contracts.V1;
using EdgeProfile.Core.Customers;

namespace EdgeProfile.Hub.Uplink;

/// <summary>
/// Checks a batch before it touches the database: contiguous sequences, typed customer keys that never carry a raw
/// email/phone/card (the edge pseudonymises them), sane sizes. Returns each delta's distinct keys, customer key first.
/// </summary>
internal static class DeltaValidator
{
    public const int MaxDeltasPerBatch = 10_000;
    private const int MaxKeyLength = 256;
    private const int MaxIdentifiers = 64;
    private const int MaxTags = 64;
    private const int MaxTagLength = 64;
    private const int MaxTextLength = 512;
    private const int MaxSearches = 16;
    private const int MaxItems = 64;

    public static string? Validate(DeltaBatch batch, out List<string[]> keySets)
    {
        ArgumentNullException.ThrowIfNull(batch);
        keySets = new List<string[]>(batch.Deltas.Count);
        if (batch.Deltas.Count > MaxDeltasPerBatch)
        {
            return $"a batch holds at most {MaxDeltasPerBatch} deltas (got {batch.Deltas.Count})";
        }

        if (batch.Backlog < 0 || batch.OldestBacklogAgeMs < 0)
        {
            return "backlog and oldest_backlog_age_ms must be >= 0";
        }

        if (batch.ModelVersion.Length > MaxTagLength)
        {
            return $"model_version is longer than {MaxTagLength} characters";
        }

        var keys = new List<string>();
        for (var i = 0; i < batch.Deltas.Count; i++)
        {
            var d = batch.Deltas[i];
            if (i == 0 ? d.Sequence < 1 : d.Sequence != batch.Deltas[i - 1].Sequence + 1)
            {
                return i == 0
                    ? $"delta 0: sequence must be >= 1 (got {d.Sequence})"
                    : $"delta {i}: sequences must be strictly increasing and contiguous (expected {batch.Deltas[i - 1].Sequence + 1}, got {d.Sequence})";
            }

            var where = $"delta {i} (sequence {d.Sequence})";
            keys.Clear();
            if (d.Tombstone)
            {
                // An erased customer's queued delta: it only keeps the sequence contiguous.
                keySets.Add([]);
                continue;
            }

            if (CheckKey(d.CustomerKey) is { } keyError)
            {
                return $"{where}: customer_key {keyError}";
            }

            keys.Add(d.CustomerKey);
            if (d.Identifiers.Count > MaxIdentifiers)
            {
                return $"{where}: at most {MaxIdentifiers} identifiers";
            }

            foreach (var id in d.Identifiers)
            {
                if (CheckKey(id) is { } idError)
                {
                    return $"{where}: identifier {idError}";
                }

                if (!keys.Contains(id))
                {
                    keys.Add(id);
                }
            }

            if (d.Tags.Count > MaxTags || d.Tags.Any(t => t.Length is 0 or > MaxTagLength))
            {
                return $"{where}: at most {MaxTags} tags of 1-{MaxTagLength} characters";
            }

            if (d.Visits7D < 0 || d.Visits30D < 0 || d.EventsTotal < 0 || d.LastSeenUnixMs < 0)
            {
                return $"{where}: visits, events_total and last_seen_unix_ms must be >= 0";
            }

            if (!double.IsFinite(d.Spend7D) || !double.IsFinite(d.Spend30D))
            {
                return $"{where}: spend must be a finite number";
            }

            if (d.LastCategory.Length > MaxTextLength || d.LastChannel.Length > MaxTagLength)
            {
                return $"{where}: last_category or last_channel is too long";
            }

            if (d.Searches.Count > MaxSearches || d.Searches.Any(x => x.Text.Length is 0 or > MaxTextLength || x.Channel.Length > MaxTagLength || x.AtUnixMs < 0))
            {
                return $"{where}: at most {MaxSearches} searches, each with 1-{MaxTextLength} characters of text";
            }

            if (d.Items.Count > MaxItems || d.Items.Any(x => x.Sku.Length is 0 or > MaxTextLength || x.Name.Length > MaxTextLength || x.Type.Length is 0 or > MaxTagLength || x.AtUnixMs < 0))
            {
                return $"{where}: at most {MaxItems} items, each with a sku and a name of at most {MaxTextLength} characters, a type and a time >= 0";
            }

            keySets.Add([.. keys]);
        }

        return null;
    }

    /// <summary>Null when <paramref name="text"/> is a typed store key that may leave an edge, else why not.</summary>
    internal static string? CheckKey(string text)
    {
        if (text.Length > MaxKeyLength)
        {
            return $"is longer than {MaxKeyLength} characters";
        }

        if (!CustomerKey.TryParse(text, out var key) || key.Kind == CustomerKey.Profile)
        {
            return $"'{text}' is not a typed store key (kind:value with kind one of loyalty, app, email, phone, card, device)";
        }

        if (key.Kind is CustomerKey.Email or CustomerKey.Phone or CustomerKey.Card && !Pseudonymizer.IsPseudonym(key.Value))
        {
            // A raw personal identifier must never leave the edge; refuse rather than store it.
            return $"'{key.Kind}:…' is not a pseudonym ({Pseudonymizer.HashHexLength} lower-case hex characters); raw values must be pseudonymised at the edge";
        }

        return null;
    }
}

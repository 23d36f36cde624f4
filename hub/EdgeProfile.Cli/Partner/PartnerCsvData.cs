using System.Globalization;
using EdgeProfile.Core.Events;
using EdgeProfile.Core.Features;
using EdgeProfile.Federated.Jobs;
using EdgeProfile.Federated.Participant;
using EdgeProfile.Synthesis;
using EdgeProfile.Synthesis.Loading;
using EdgeProfile.Synthesis.Mapping;

namespace EdgeProfile.Cli.Partner;

/// <summary>
/// A partner brand's training rows for federated jobs, from its own transactions CSV read with the same column mapping
/// as <c>features synthesize</c>: every row becomes a purchase event of its customer, and each job's rows are built from
/// those histories with <see cref="FederatedRows"/>. The file is read once (the first job, or <see cref="LoadCustomersAsync"/>
/// at start) and kept in memory; no row or event leaves this process.
/// </summary>
public sealed class PartnerCsvData : IFederatedDataSource
{
    private readonly Lock _sync = new();
    private Task<IReadOnlyList<IReadOnlyList<FeatureInput>>>? _loading;

    /// <summary>Reads <paramref name="csvPath"/> with <paramref name="mapping"/>; <paramref name="source"/> is the
    /// participant's id (each event's source) and names the data in messages.</summary>
    public PartnerCsvData(string csvPath, ColumnMapping mapping, string source)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(csvPath);
        ArgumentNullException.ThrowIfNull(mapping);
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        CsvPath = Path.GetFullPath(csvPath);
        Mapping = mapping;
        Source = source;
        Origin = $"partner {source} ({Path.GetFileName(CsvPath)})";
    }

    /// <summary>The transactions file.</summary>
    public string CsvPath { get; }

    /// <summary>Its column mapping.</summary>
    public ColumnMapping Mapping { get; }

    /// <summary>The participant id stamped on every event.</summary>
    public string Source { get; }

    /// <summary>How the data is named in messages and in the rows' description.</summary>
    public string Origin { get; }

    /// <summary>
    /// Opens a CSV with a mapping file. A mapping that does not parse is a <see cref="SynthesisException"/> naming the
    /// key at fault (the CSV is not read yet).
    /// </summary>
    public static PartnerCsvData Open(string csvPath, string mappingPath, string source)
    {
        ArgumentNullException.ThrowIfNull(mappingPath);
        return new PartnerCsvData(csvPath, ColumnMapping.Load(mappingPath), source);
    }

    /// <summary>
    /// Every customer's purchase events, time-ordered; the file is read on the first call and kept. A mapped column
    /// missing from the file, or a value that does not parse, is a <see cref="SynthesisException"/> naming the column,
    /// the mapping key and the row; a failed read is tried again on the next call.
    /// </summary>
    public Task<IReadOnlyList<IReadOnlyList<FeatureInput>>> LoadCustomersAsync(CancellationToken cancellationToken)
    {
        Task<IReadOnlyList<IReadOnlyList<FeatureInput>>> loading;
        lock (_sync)
        {
            // The read itself is not cancelled: a caller that gives up waiting leaves it to the next one.
            if (_loading is null || _loading.IsFaulted || _loading.IsCanceled)
            {
                _loading = Task.Run(() => ToEvents(TransactionLoader.Load(CsvPath, Mapping), Source), CancellationToken.None);
            }

            loading = _loading;
        }

        return loading.WaitAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async Task<FederatedData> LoadAsync(FederatedJobSpec job, FeatureSet definitions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(definitions);
        IReadOnlyList<IReadOnlyList<FeatureInput>> customers;
        try
        {
            customers = await LoadCustomersAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (SynthesisException ex)
        {
            throw new FederatedDataException($"{Origin}: {ex.Message}", ex);
        }

        return await Task.Run(() => FederatedRows.Build(job, definitions, customers, Origin), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The loaded transactions as each customer's purchase events (in the set's customer order, each time-ordered):
    /// amount, quantity, unit price (amount / quantity when the quantity is positive), SKU, category path, store and
    /// channel when mapped. <paramref name="source"/> is every event's source.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<FeatureInput>> ToEvents(EntitySet set, string source)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(source);
        var customers = new IReadOnlyList<FeatureInput>[set.CustomerIds.Count];
        for (var c = 0; c < customers.Length; c++)
        {
            int from = set.CustomerStart[c], to = set.CustomerStart[c + 1];
            var events = new FeatureInput[to - from];
            for (var i = from; i < to; i++)
            {
                var quantity = double.IsNaN(set.Quantity[i]) ? (double?)null : set.Quantity[i];
                events[i - from] = new FeatureInput
                {
                    EventId = string.Create(CultureInfo.InvariantCulture, $"{source}:{set.CustomerIds[c]}:{i - from}"),
                    TimestampMs = set.Time[i],
                    Type = EventType.Purchase,
                    Source = source,
                    Amount = set.Amount[i],
                    Quantity = quantity,
                    Price = quantity is > 0 ? set.Amount[i] / quantity.Value : null,
                    Sku = set.Product[i] >= 0 ? set.ProductIds[set.Product[i]] : null,
                    Category = set.Category[i] >= 0 ? set.Categories[set.Category[i]] : null,
                    Store = set.Store[i] >= 0 ? set.Stores[set.Store[i]] : null,
                    Channel = set.Channel[i] >= 0 ? set.Channels[set.Channel[i]] : null,
                };
            }

            customers[c] = events;
        }

        return customers;
    }
}

using EdgeProfile.Core.Features;
using EdgeProfile.Edge.Features;
using EdgeProfile.Edge.Ingest;
using EdgeProfile.Edge.Log;
using EdgeProfile.Federated.Jobs;
using EdgeProfile.Federated.Participant;

namespace EdgeProfile.Edge.Federation;

/// <summary>
/// A store's rows for federated jobs, from its own event log: every customer's events (late events excluded, as
/// training sets do; customers who withdrew consent to training left out), then point-in-time rows and labels at the
/// job's cutoffs (<see cref="FederatedRows"/>). The rows stay in this process.
/// </summary>
public sealed class LogFederatedData(EdgeDatabase db, EventDecoder decoder, string storeId) : IFederatedDataSource
{
    /// <inheritdoc />
    public Task<FederatedData> LoadAsync(FederatedJobSpec job, FeatureSet definitions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(definitions);
        using var connection = db.OpenRead();
        var customers = new List<string>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT DISTINCT customer_key FROM events WHERE customer_key IS NOT NULL ORDER BY customer_key";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                customers.Add(reader.GetString(0));
            }
        }

        var histories = new List<IReadOnlyList<FeatureInput>>(customers.Count);
        var withdrawn = 0;
        foreach (var customer in customers)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (TrainingSetBuilder.TrainingWithdrawn(connection, customer))
            {
                withdrawn++;
                continue;
            }
            histories.Add(TrainingSetBuilder.LoadEvents(connection, decoder, customer));
        }

        var data = FederatedRows.Build(job, definitions, histories, $"store {storeId}");
        return Task.FromResult(withdrawn == 0 ? data : data with { Description = data.Description + $", {withdrawn} customers without training consent left out" });
    }
}

using System.Globalization;
using System.Text.RegularExpressions;
using EdgeProfile.Core.Events;
using EdgeProfile.Core.Features;
using EdgeProfile.Federated.Jobs;
using EdgeProfile.Training;

namespace EdgeProfile.Federated.Participant;

/// <summary>
/// A job's rows from customers' event histories, point-in-time as training sets are (features from the events before a
/// cutoff, half-open windows; labels from the events after it): cutoffs run back from the newest one whose every label
/// horizon has passed, <see cref="FederatedJobSpec.CutoffStepDays"/> apart; a row per customer active before the cutoff.
/// The newest cutoff's rows are the local validation rows when there are two cutoffs or more.
/// Labels: <c>purchase_next_Nd</c> (1 when a purchase follows within N days), <c>churn_next_Nd</c> (1 when none does),
/// <c>spend_next_Nd</c> (log1p of the money spent within N days, for regression heads).
/// </summary>
public static partial class FederatedRows
{
    /// <summary>Builds the rows; throws <see cref="FederatedDataException"/> when the history is too short or empty.</summary>
    public static FederatedData Build(FederatedJobSpec job, FeatureSet definitions, IReadOnlyList<IReadOnlyList<FeatureInput>> customers, string origin)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(definitions);
        ArgumentNullException.ThrowIfNull(customers);
        var set = Subset(job, definitions);
        var labels = job.Tasks.Select(t => ParseLabel(t.Label)).ToArray();
        long first = long.MaxValue, last = long.MinValue;
        foreach (var events in customers)
        {
            foreach (var e in events)
            {
                first = Math.Min(first, e.TimestampMs);
                last = Math.Max(last, e.TimestampMs);
            }
        }
        if (first > last)
        {
            throw new FederatedDataException($"{origin}: no events");
        }

        var horizon = labels.Max(l => l.HorizonMs);
        var newest = last - horizon;
        var step = job.CutoffStepDays * 86_400_000L;
        var cutoffs = Enumerable.Range(0, job.Cutoffs).Select(k => newest - (k * step)).Where(c => c > first).ToArray();
        if (cutoffs.Length == 0)
        {
            throw new FederatedDataException(string.Create(CultureInfo.InvariantCulture,
                $"{origin}: the history covers {(last - first) / 86_400_000.0:0.#} days, less than the {horizon / 86_400_000} days the labels need after a cutoff"));
        }

        var train = new Builder(job.Tasks.Count);
        var validation = new Builder(job.Tasks.Count);
        foreach (var events in customers)
        {
            var ordered = events.OrderBy(e => e.TimestampMs).ToList();
            for (var c = 0; c < cutoffs.Length; c++)
            {
                var cutoff = cutoffs[c];
                if (ordered.Count == 0 || ordered[0].TimestampMs >= cutoff)
                {
                    continue;
                }
                var readings = PointInTime.Compute(set, ordered, cutoff);
                var row = new float[job.Features.Count];
                for (var f = 0; f < row.Length; f++)
                {
                    row[f] = readings[f].Value.Number is { } v && double.IsFinite(v) ? (float)v : 0f;
                }
                var target = c == 0 && cutoffs.Length > 1 ? validation : train;
                target.Add(row, labels.Select(l => l.Value(ordered, cutoff)).ToArray());
            }
        }

        if (train.Rows == 0)
        {
            throw new FederatedDataException($"{origin}: no customer was active before the training cutoffs");
        }

        var description = string.Create(CultureInfo.InvariantCulture,
            $"{origin}: {customers.Count} customers, {train.Rows} training rows at {cutoffs.Length - (validation.Rows > 0 ? 1 : 0)} cutoffs, {validation.Rows} validation rows");
        return new FederatedData(train.Build(), validation.Rows > 0 ? validation.Build() : null, description);
    }

    /// <summary>The job's features, in its order, from the hub's definitions; throws naming a missing one.</summary>
    public static FeatureSet Subset(FederatedJobSpec job, FeatureSet definitions)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(definitions);
        var chosen = new List<FeatureDefinition>(job.Features.Count);
        foreach (var name in job.Features)
        {
            chosen.Add(definitions.Find(name) ?? throw new FederatedDataException($"feature {name}: no definition was sent with the job"));
        }
        return new FeatureSet { Revision = definitions.Revision, Definitions = chosen };
    }

    /// <summary>A label column's kind and horizon from its name; throws naming it when it is not one of the three forms.</summary>
    public static Label ParseLabel(string name)
    {
        var match = LabelName().Match(name ?? "");
        if (!match.Success)
        {
            throw new FederatedDataException($"label '{name}': expected purchase_next_<N>d, churn_next_<N>d or spend_next_<N>d");
        }
        var days = int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
        return new Label(match.Groups[1].Value, days * 86_400_000L);
    }

    [GeneratedRegex("^(purchase|churn|spend)_next_([1-9][0-9]{0,3})d$")]
    private static partial Regex LabelName();

    /// <summary>A label: <paramref name="Kind"/> (purchase | churn | spend) over <paramref name="HorizonMs"/> after the cutoff.</summary>
    public sealed record Label(string Kind, long HorizonMs)
    {
        /// <summary>The label's value for one customer's (time-ordered) events at <paramref name="cutoffMs"/>.</summary>
        public float Value(IReadOnlyList<FeatureInput> events, long cutoffMs)
        {
            ArgumentNullException.ThrowIfNull(events);
            var any = false;
            double spend = 0;
            foreach (var e in events)
            {
                if (e.TimestampMs <= cutoffMs || e.TimestampMs > cutoffMs + HorizonMs || e.Type != EventType.Purchase)
                {
                    continue;
                }
                any = true;
                spend += e.Amount ?? 0;
            }
            return Kind switch
            {
                "purchase" => any ? 1f : 0f,
                "churn" => any ? 0f : 1f,
                _ => (float)Math.Log(1 + Math.Max(spend, 0)),
            };
        }
    }

    private sealed class Builder(int tasks)
    {
        private readonly List<float[]> _features = [];
        private readonly List<float>[] _labels = Enumerable.Range(0, tasks).Select(_ => new List<float>()).ToArray();

        public int Rows => _features.Count;

        public void Add(float[] row, float[] labels)
        {
            _features.Add(row);
            for (var t = 0; t < labels.Length; t++)
            {
                _labels[t].Add(labels[t]);
            }
        }

        public TrainingData Build() =>
            new(_features.ToArray(), _labels.Select(l => l.Select(v => new[] { v }).ToArray()).ToArray());
    }
}

using System.Globalization;
using EdgeProfile.Bench.FlAggregation;

// Federated aggregation on the hub: FedAvg, median, trimmed mean and Krum over 100 × 1M-parameter updates against a
// plain memcpy of the same bytes, secure-aggregation unmasking against FedAvg, and int8 compression on the wire.
// Usage: dotnet run -c Release --project bench/EdgeProfile.Bench.FlAggregation [-- --clients 100 --params 1000000 --reps 5]
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var settings = BenchSettings.Parse(args);
Console.Write(AggregationBench.Run(settings));
return 0;

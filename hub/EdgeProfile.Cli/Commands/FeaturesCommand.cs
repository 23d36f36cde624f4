using System.CommandLine;

namespace EdgeProfile.Cli.Commands;

/// <summary><c>features</c>: the feature registry at the hub, an edge's feature values, training sets and synthesis.</summary>
public static class FeaturesCommand
{
    /// <summary>Builds <c>features</c> and its subcommands.</summary>
    public static Command Create()
    {
        var features = new Command("features", "Feature definitions, values, training sets and automatic feature synthesis");
        features.Subcommands.Add(FeaturesRegistryCommands.List());
        features.Subcommands.Add(FeaturesRegistryCommands.Describe());
        features.Subcommands.Add(FeaturesRegistryCommands.Register());
        features.Subcommands.Add(FeaturesEdgeCommands.Get());
        features.Subcommands.Add(FeaturesEdgeCommands.TrainingSet());
        features.Subcommands.Add(FeaturesSynthesizeCommand.Create());
        return features;
    }
}

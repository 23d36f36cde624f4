using System.CommandLine;

namespace EdgeProfile.Cli.Commands;

/// <summary><c>features</c>: the feature registry at the hub, an edge's feature values, training sets and synthesis.</summary>
public static class FeaturesCommand
{
    /// <summary>Builds <c>features</c> and its subcommands.</summary>
    public static Command Create()
    {
        var features = new Command("features", "Feature definitions, values, training sets and automatic feature synthesis");
        // hub-registry-commands (list, describe, register): added by FeaturesRegistryCommands
        // edge-commands (get, training-set): added by FeaturesEdgeCommands
        // synthesize-command: added by FeaturesSynthesizeCommand
        return features;
    }
}

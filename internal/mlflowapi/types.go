// Package mlflowapi is the MLflow REST surface that mlflow-guard reads and
// guards: request/response types for the tracking and registry APIs and a
// client with timeouts, retries with backoff, and pagination. The auditor
// uses it today; the gateway reuses the types.
package mlflowapi

import (
	"fmt"
	"strconv"
	"strings"
)

// Field names and shapes follow MLflow's protobuf JSON (service.proto and
// model_registry.proto); only the fields mlflow-guard reads are declared,
// and unknown fields are ignored so newer servers still decode.

// Tag is a key/value pair (experiment, run, model and version tags).
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Param is a run parameter.
type Param struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Experiment is one tracking experiment.
type Experiment struct {
	ExperimentID     string `json:"experiment_id"`
	Name             string `json:"name"`
	ArtifactLocation string `json:"artifact_location"`
	LifecycleStage   string `json:"lifecycle_stage"`
	Tags             []Tag  `json:"tags,omitempty"`
}

// RunInfo is the metadata part of a run.
type RunInfo struct {
	RunID          string `json:"run_id"`
	RunName        string `json:"run_name"`
	ExperimentID   string `json:"experiment_id"`
	Status         string `json:"status,omitempty"`
	ArtifactURI    string `json:"artifact_uri,omitempty"`
	LifecycleStage string `json:"lifecycle_stage,omitempty"`
}

// RunData holds params and tags (metrics are not read).
type RunData struct {
	Params []Param `json:"params,omitempty"`
	Tags   []Tag   `json:"tags,omitempty"`
}

// Dataset is a dataset logged as a run input.
type Dataset struct {
	Name       string `json:"name"`
	Digest     string `json:"digest"`
	SourceType string `json:"source_type"`
	Source     string `json:"source"`
}

// DatasetInput links a dataset to a run.
type DatasetInput struct {
	Tags    []Tag   `json:"tags,omitempty"`
	Dataset Dataset `json:"dataset"`
}

// RunInputs are a run's inputs.
type RunInputs struct {
	DatasetInputs []DatasetInput `json:"dataset_inputs,omitempty"`
}

// Run is one tracking run.
type Run struct {
	Info   RunInfo   `json:"info"`
	Data   RunData   `json:"data"`
	Inputs RunInputs `json:"inputs"`
}

// Alias names a model version.
type Alias struct {
	Alias   string `json:"alias"`
	Version string `json:"version"`
}

// RegisteredModel is a registry entry.
type RegisteredModel struct {
	Name    string  `json:"name"`
	Aliases []Alias `json:"aliases,omitempty"`
	Tags    []Tag   `json:"tags,omitempty"`
	// LatestVersions is the newest version per stage; the auditor uses it
	// to notice a version search that came back short.
	LatestVersions []ModelVersion `json:"latest_versions,omitempty"`
}

// ModelVersion is one version of a registered model.
type ModelVersion struct {
	Name         string   `json:"name"`
	Version      string   `json:"version"`
	CurrentStage string   `json:"current_stage"`
	Source       string   `json:"source"`
	RunID        string   `json:"run_id,omitempty"`
	Status       string   `json:"status,omitempty"`
	Tags         []Tag    `json:"tags,omitempty"`
	Aliases      []string `json:"aliases,omitempty"`
	ModelID      string   `json:"model_id,omitempty"`
	// StorageLocation is where the registry copied the files (MLflow 3).
	StorageLocation string `json:"storage_location,omitempty"`
}

// TagValue returns the value of key in tags and whether it is present.
func TagValue(tags []Tag, key string) (string, bool) {
	for _, t := range tags {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}

// FileInfo is one entry of an artifact listing.
type FileInfo struct {
	Path     string `json:"path"`
	IsDir    bool   `json:"is_dir"`
	FileSize Int64  `json:"file_size,omitempty"`
}

// Response envelopes of the routes the client pages through.

type searchExperimentsResponse struct {
	Experiments   []Experiment `json:"experiments"`
	NextPageToken string       `json:"next_page_token"`
}

type searchRunsRequest struct {
	ExperimentIDs []string `json:"experiment_ids"`
	MaxResults    int      `json:"max_results"`
	PageToken     string   `json:"page_token,omitempty"`
	RunViewType   string   `json:"run_view_type,omitempty"`
}

type searchRunsResponse struct {
	Runs          []Run  `json:"runs"`
	NextPageToken string `json:"next_page_token"`
}

type searchRegisteredModelsResponse struct {
	RegisteredModels []RegisteredModel `json:"registered_models"`
	NextPageToken    string            `json:"next_page_token"`
}

type searchModelVersionsResponse struct {
	ModelVersions []ModelVersion `json:"model_versions"`
	NextPageToken string         `json:"next_page_token"`
}

type getModelVersionResponse struct {
	ModelVersion ModelVersion `json:"model_version"`
}

type getDownloadURIResponse struct {
	ArtifactURI string `json:"artifact_uri"`
}

type listArtifactsResponse struct {
	Files         []FileInfo `json:"files"`
	NextPageToken string     `json:"next_page_token"`
}

// apiErrorBody is MLflow's JSON error body.
type apiErrorBody struct {
	ErrorCode string `json:"error_code"`
	Message   string `json:"message"`
}

// Int64 decodes an int64 that protobuf JSON may write as a number or a string.
type Int64 int64

// UnmarshalJSON accepts 12 and "12".
func (n *Int64) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("not an integer: %q", s)
	}
	*n = Int64(v)
	return nil
}

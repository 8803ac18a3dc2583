// The fields of one record of a JSON document, each with the server's problem at its own path.
import { Field, type FieldSpec, type PathProblem } from "./Field";
import { withField, type Values } from "./values";

export function RecordFields({
  id,
  path,
  fields,
  values,
  problems,
  eventName,
  onChange,
}: {
  /** Makes the inputs' ids unique on the page. */
  id: string;
  /** Where the record is in the document, as the server's problems name it. */
  path: string;
  fields: FieldSpec[];
  values: Values;
  problems: PathProblem[];
  eventName?: string | undefined;
  onChange: (values: Values) => void;
}) {
  return (
    <>
      {fields.map((field) => (
        <Field
          key={field.name}
          id={id}
          field={field}
          value={values[field.name]}
          problem={problems.find((p) => p.path === `${path}.${field.name}`)}
          eventName={eventName}
          // An option left empty (a cap on every channel) is left out of the record.
          onChange={(value) => onChange(withField(values, field.name, value === "" ? undefined : value))}
        />
      ))}
    </>
  );
}
